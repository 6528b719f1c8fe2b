/// One measured point of a curve. `error` is the half-length of the error bar (for example the standard
/// deviation over seeds): the bar runs from y - error to y + error; nil, zero or non-finite draws no bar.
/// A point whose x or y is NaN, infinite or (on a log axis) not positive is skipped and leaves a gap.
public struct ChartPoint: Sendable, Equatable {
    /// Position along the x axis, in data units.
    public var x: Double
    /// Position along the y axis, in data units.
    public var y: Double
    /// Half-length of the error bar, in y data units; nil for none.
    public var error: Double?

    /// Creates a point; `error` is ± half-length, nil for no error bar.
    public init(x: Double, y: Double, error: Double? = nil) {
        self.x = x
        self.y = y
        self.error = error
    }
}

/// One curve: a label for the legend and its points, joined in the order given.
/// Series with the same label share colour, marker and dash pattern in every panel of a chart.
public struct ChartSeries: Sendable, Equatable {
    /// Legend text, e.g. "eval mode".
    public var label: String
    /// The points, joined by straight lines in this order.
    public var points: [ChartPoint]

    /// Creates a curve.
    public init(label: String, points: [ChartPoint]) {
        self.label = label
        self.points = points
    }
}

/// One small multiple: a titled plot area holding some series, sharing the chart's axes.
public struct ChartPanel: Sendable, Equatable {
    /// Title shown above the plot area, e.g. "momentum 0.1".
    public var title: String
    /// Curves drawn in this panel.
    public var series: [ChartSeries]

    /// Creates a panel.
    public init(title: String, series: [ChartSeries]) {
        self.title = title
        self.series = series
    }
}

/// A horizontal reference line drawn dashed grey across every panel, labelled at its right end,
/// e.g. chance level at 33.3 %. Lines outside the y range are left out.
public struct ChartReferenceLine: Sendable, Equatable {
    /// Height in y data units.
    public var y: Double
    /// Text written on the line, e.g. "chance".
    public var label: String

    /// Creates a reference line.
    public init(y: Double, label: String) {
        self.y = y
        self.label = label
    }
}

/// A chart of small multiples written as a standalone SVG document, with no dependencies.
///
/// Panels are laid out in a grid of at most three columns (1, 2, 3 panels: one row; 4: 2 × 2; more: rows of
/// 3) and share both axes; one legend at the top lists each series label once. Series styles come from the
/// Okabe-Ito colour-blind-safe palette, each with its own marker shape and dash pattern so that a greyscale
/// print still tells them apart. Output is deterministic: coordinates have at most two decimals, written
/// without locale, so the same chart always gives the same bytes.
public struct Chart: Sendable, Equatable {
    /// Title over the whole figure.
    public var title: String
    /// The small multiples, in reading order.
    public var panels: [ChartPanel]
    /// Horizontal axis shared by all panels.
    public var xAxis: ChartAxis
    /// Vertical axis shared by all panels.
    public var yAxis: ChartAxis
    /// Dashed horizontal lines with labels, drawn in every panel.
    public var referenceLines: [ChartReferenceLine]

    /// Creates a chart.
    public init(title: String, panels: [ChartPanel], xAxis: ChartAxis, yAxis: ChartAxis,
                referenceLines: [ChartReferenceLine] = []) {
        self.title = title
        self.panels = panels
        self.xAxis = xAxis
        self.yAxis = yAxis
        self.referenceLines = referenceLines
    }

    /// The chart as a complete SVG document (UTF-8 text, fixed pixel width and height).
    public func svg() -> String {
        SVGChartRenderer(chart: self).render()
    }

    /// Distinct series labels in order of first appearance across panels; index = style index.
    var seriesLabels: [String] {
        var seen = Set<String>()
        return panels.flatMap { $0.series.map(\.label) }.filter { seen.insert($0).inserted }
    }
}

/// Text and number formatting shared by the SVG writer: XML escaping and locale-free numbers.
enum SVGText {
    /// `text` with &, <, >, " and ' replaced by entities and characters that XML 1.0 forbids removed.
    static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(" ")
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: continue
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `value` rounded half away from zero to `decimals` places, trailing zeros dropped, no locale:
    /// 12.5 -> "12.5", 3.0 -> "3", -0.001 -> "0". Non-finite values (never expected) print "0";
    /// magnitudes are clamped to 1e9 so the output stays a plain decimal.
    static func number(_ value: Double, decimals: Int = 2) -> String {
        guard value.isFinite else { return "0" }
        var factor: Int64 = 1
        for _ in 0..<decimals { factor *= 10 }
        let scaled = Int64((min(max(value, -1e9), 1e9) * Double(factor)).rounded())
        let magnitude = scaled.magnitude
        var text = String(magnitude / UInt64(factor))
        var fraction = String(magnitude % UInt64(factor))
        if fraction != "0" {
            fraction = String(repeating: "0", count: decimals - fraction.count) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return scaled < 0 ? "-" + text : text
    }

    /// Rough rendered width of `text` in DejaVu Sans at `size` px, for layout. Advance widths in em, rounded
    /// from the font's metrics: digits 0.64, space and . , : ; | 0.32, lower case letters from `lowerCaseWidths`,
    /// anything else 0.72. Bold text is about 10 % wider; pass `bold: true`.
    static func width(_ text: String, size: Double, bold: Bool = false) -> Double {
        let ems = text.unicodeScalars.reduce(0.0) { total, scalar in
            switch scalar {
            case "0"..."9": return total + 0.64
            case " ", ".", ",", ":", ";", "|", "'", "!": return total + 0.32
            case "a"..."z": return total + lowerCaseWidths[Int(scalar.value - 97)]
            default: return total + 0.72
            }
        }
        return ems * size * (bold ? 1.1 : 1)
    }

    /// DejaVu Sans advance widths of a...z in em, to two decimals.
    static let lowerCaseWidths: [Double] = [
        0.61, 0.64, 0.55, 0.64, 0.62, 0.35, 0.64, 0.63, 0.28, 0.28, 0.58, 0.28, 0.97,
        0.63, 0.60, 0.64, 0.64, 0.41, 0.52, 0.39, 0.63, 0.59, 0.82, 0.59, 0.59, 0.53,
    ]
}
