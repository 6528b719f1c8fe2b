/// Lays out a `Chart` and writes its SVG. Layout, top to bottom:
/// title, legend rows, then per grid row: panel title, plot area (plotWidth × plotHeight), x tick labels;
/// finally the x axis title. Left of column 0: the rotated y axis title and the y tick labels.
/// All coordinates are absolute pixels except inside a panel group, which is translated to its plot area's
/// top-left corner (so one clip rectangle serves every panel). With more than two rows of legend entries
/// on top, the legend moves to a column right of the grid.
struct SVGChartRenderer {
    let chart: Chart
    let x: ResolvedAxis
    let y: ResolvedAxis
    let labels: [String]

    static let font = "DejaVu Sans, Helvetica, Arial, sans-serif"
    static let plotWidth = 280.0, plotHeight = 200.0
    static let edge = 14.0, tickLength = 4.0, tickFont = 11.0, titleFont = 16.0, axisFont = 13.0
    static let legendFont = 12.0, legendRow = 20.0, legendSample = 30.0, legendGap = 20.0, markerSize = 3.6
    static let lineHeight = 16.0, dodge = 3.0

    /// Figure geometry, fixed once in `init`.
    let columns: Int, rows: Int
    let xLabelWidth: Double, columnGap: Double, rowGap: Double, plotLeft: Double, plotTop: Double
    let width: Double, height: Double
    let titleLines: [String], xTitleLines: [String], yTitleLines: [String], panelTitleLines: [[String]]
    /// Legend entries: style index, left end of the line sample, vertical middle.
    let legendEntries: [(index: Int, left: Double, middle: Double)]

    init(chart: Chart) {
        self.chart = chart
        let points = chart.panels.flatMap { $0.series.flatMap(\.points) }
        x = ResolvedAxis(axis: chart.xAxis, values: points.map(\.x))
        y = ResolvedAxis(axis: chart.yAxis, values: points.flatMap { point -> [Double] in
            guard let error = point.error, error.isFinite else { return [point.y] }
            return [point.y - abs(error), point.y, point.y + abs(error)]
        })
        labels = chart.seriesLabels

        let count = chart.panels.count
        columns = count <= 3 ? max(count, 1) : count == 4 ? 2 : 3
        rows = max(1, (count + columns - 1) / columns)
        let labelWidth = { (axis: ResolvedAxis) in
            axis.ticks.compactMap(\.label).map { SVGText.width($0, size: Self.tickFont) }.max() ?? 0
        }
        xLabelWidth = labelWidth(x)
        columnGap = max(28, xLabelWidth + 10)
        panelTitleLines = chart.panels.map {
            Self.wrapped($0.title, width: Self.plotWidth, size: Self.axisFont, bold: true)
        }
        let panelTitleBand = Double(panelTitleLines.map(\.count).max() ?? 1) * Self.lineHeight + 6
        rowGap = Self.tickLength + 16 + 14 + panelTitleBand
        let gridHeight = Double(rows) * Self.plotHeight + Double(rows - 1) * rowGap
        yTitleLines = Self.wrapped(chart.yAxis.title, width: gridHeight, size: Self.axisFont)
        plotLeft = Self.edge + Double(yTitleLines.count) * Self.lineHeight + 8 + labelWidth(y) + Self.tickLength + 4
        let gridWidth = Double(columns) * Self.plotWidth + Double(columns - 1) * columnGap
        xTitleLines = Self.wrapped(chart.xAxis.title, width: gridWidth, size: Self.axisFont)

        // Legend: centred rows under the title, or a column right of the grid when that would take > 2 rows.
        let entryWidths = labels.map { Self.legendSample + 6 + SVGText.width($0, size: Self.legendFont) }
        let topWidth = plotLeft + gridWidth + max(Self.edge, xLabelWidth / 2 + 6)
        let topRows = Self.packed(entryWidths, width: topWidth - 2 * Self.edge)
        let onRight = topRows.count > 2
        let rightLegendLeft = plotLeft + gridWidth + max(24, xLabelWidth / 2 + 12)
        width = (onRight ? rightLegendLeft + (entryWidths.max() ?? 0) + Self.edge : topWidth).rounded(.up)
        titleLines = chart.title.isEmpty
            ? [] : Self.wrapped(chart.title, width: width - 2 * Self.edge, size: Self.titleFont, bold: true)
        let titleBottom = Self.edge + Double(titleLines.count) * (Self.titleFont + 4)
        let top = titleBottom + (onRight ? 0 : Double(topRows.count) * Self.legendRow) + 6 + panelTitleBand
        var entries: [(index: Int, left: Double, middle: Double)] = []
        for (row, indices) in (onRight ? entryWidths.indices.map { [$0] } : topRows).enumerated() {
            let total = indices.map { entryWidths[$0] }.reduce(0, +) + Self.legendGap * Double(indices.count - 1)
            var left = onRight ? rightLegendLeft : (topWidth - total) / 2
            let middle = (onRight ? top : titleBottom) + (Double(row) + 0.5) * Self.legendRow
            for index in indices {
                entries.append((index, left, middle))
                left += entryWidths[index] + Self.legendGap
            }
        }
        plotTop = top
        legendEntries = entries
        let legendBottom = onRight ? plotTop + Double(labels.count) * Self.legendRow + Self.edge : 0
        height = max(legendBottom, plotTop + gridHeight + Self.tickLength + 16 + 8
            + Double(xTitleLines.count) * Self.lineHeight + Self.edge).rounded(.up)
    }

    /// Entry indices packed greedily into rows no wider than `width`, `legendGap` apart.
    static func packed(_ widths: [Double], width: Double) -> [[Int]] {
        var rows: [[Int]] = []
        var used = Double.infinity
        for (index, entry) in widths.enumerated() {
            if used + legendGap + entry > width {
                rows.append([])
                used = -legendGap
            }
            rows[rows.count - 1].append(index)
            used += legendGap + entry
        }
        return rows
    }

    /// Top-left corner of panel `index`'s plot area.
    func plotOrigin(_ index: Int) -> (x: Double, y: Double) {
        (plotLeft + Double(index % columns) * (Self.plotWidth + columnGap),
         plotTop + Double(index / columns) * (Self.plotHeight + rowGap))
    }

    /// `text` broken at spaces into lines at most `width` pixels wide (a single long word stays whole).
    static func wrapped(_ text: String, width: Double, size: Double, bold: Bool = false) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            let candidate = line.isEmpty ? String(word) : line + " " + word
            if !line.isEmpty && SVGText.width(candidate, size: size, bold: bold) > width {
                lines.append(line)
                line = String(word)
            } else {
                line = candidate
            }
        }
        return lines + [line]
    }

    // MARK: document

    /// The whole document: header, clip paths, white background, title, legend, panels, axis titles.
    package func render() -> String {
        var out: [String] = []
        out.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        out.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" "
            + "viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"\(Self.font)\" "
            + "font-size=\"\(n(Self.tickFont))\">")
        out.append("<title>\(SVGText.escaped(chart.title))</title>")
        out.append("<defs><clipPath id=\"plot-area\"><rect width=\"\(n(Self.plotWidth))\" "
            + "height=\"\(n(Self.plotHeight))\"/></clipPath>")
        out.append("<clipPath id=\"marker-area\"><rect x=\"-6\" y=\"-6\" width=\"\(n(Self.plotWidth + 12))\" "
            + "height=\"\(n(Self.plotHeight + 12))\"/></clipPath></defs>")
        out.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>")
        for (i, line) in titleLines.enumerated() {
            out.append(text(width / 2, Self.edge + Self.titleFont - 2 + Double(i) * (Self.titleFont + 4), line,
                            size: Self.titleFont, anchor: "middle", extra: " font-weight=\"bold\""))
        }
        out += legend()
        for (index, panel) in chart.panels.enumerated() {
            out += self.panel(panel, index: index)
        }
        out += axisTitles()
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// Each entry: a short line in the series' dash pattern with its marker, then the label.
    func legend() -> [String] {
        legendEntries.flatMap { entry -> [String] in
            let style = SeriesStyle(index: entry.index)
            let (left, middle) = (entry.left, entry.middle)
            return [
                "<g class=\"legend-entry\">",
                "<line x1=\"\(n(left))\" y1=\"\(n(middle))\" x2=\"\(n(left + Self.legendSample))\" y2=\"\(n(middle))\" "
                    + "stroke=\"\(style.colour)\" stroke-width=\"1.8\"\(style.dashAttribute)/>",
                style.marker(left + Self.legendSample / 2, middle, size: Self.markerSize),
                text(left + Self.legendSample + 6, middle + 4, labels[entry.index], size: Self.legendFont),
                "</g>",
            ]
        }
    }

    /// The x title centred under the grid, the y title rotated and centred left of it (first line outermost).
    func axisTitles() -> [String] {
        let gridWidth = Double(columns) * Self.plotWidth + Double(columns - 1) * columnGap
        let gridHeight = Double(rows) * Self.plotHeight + Double(rows - 1) * rowGap
        let middleY = plotTop + gridHeight / 2
        var out: [String] = []
        for (i, line) in xTitleLines.enumerated() {
            let baseline = height - Self.edge - 4 - Double(xTitleLines.count - 1 - i) * Self.lineHeight
            out.append(text(plotLeft + gridWidth / 2, baseline, line, size: Self.axisFont, anchor: "middle"))
        }
        for (i, line) in yTitleLines.enumerated() {
            let baseline = Self.edge + Self.axisFont - 2 + Double(i) * Self.lineHeight
            out.append(text(baseline, middleY, line, size: Self.axisFont, anchor: "middle",
                            extra: " transform=\"rotate(-90 \(n(baseline)) \(n(middleY)))\""))
        }
        return out
    }

    // MARK: panel

    /// One small multiple in a group translated to its plot area: title, grid, reference lines, data,
    /// frame and ticks (y tick labels only in the first column, since all panels share the y axis).
    func panel(_ panel: ChartPanel, index: Int) -> [String] {
        let origin = plotOrigin(index)
        let (w, h) = (Self.plotWidth, Self.plotHeight)
        var out = ["<g class=\"panel\" transform=\"translate(\(n(origin.x)) \(n(origin.y)))\">"]
        let titleLines = panelTitleLines[index]
        for (i, line) in titleLines.enumerated() {
            out.append(text(w / 2, -8 - Double(titleLines.count - 1 - i) * Self.lineHeight, line,
                            size: Self.axisFont, anchor: "middle", extra: " font-weight=\"bold\""))
        }
        out += grid()
        out += referenceLines()
        let withBars = panel.series.contains { $0.points.contains { ($0.error ?? 0) != 0 } }
        let drawn = panel.series.enumerated().map { i, series in
            self.series(series, style: SeriesStyle(index: labels.firstIndex(of: series.label) ?? 0),
                        shift: withBars ? (Double(i) - Double(panel.series.count - 1) / 2) * Self.dodge : 0)
        }
        // Lines are cut at the frame; markers may overhang it by their size, and sit on top of every line.
        out += ["<g clip-path=\"url(#plot-area)\">"] + drawn.flatMap(\.lines) + ["</g>"]
        out += ["<g clip-path=\"url(#marker-area)\">"] + drawn.flatMap(\.markers) + ["</g>"]
        out.append("<rect width=\"\(n(w))\" height=\"\(n(h))\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>")
        out += ticks(showYLabels: index % columns == 0)
        out.append("</g>")
        return out
    }

    /// Pixel position of a data point inside the plot area, nil if either coordinate cannot be drawn.
    func pixel(_ px: Double, _ py: Double) -> (x: Double, y: Double)? {
        guard let fx = x.fraction(px), let fy = y.fraction(py) else { return nil }
        return (fx * Self.plotWidth, (1 - fy) * Self.plotHeight)
    }

    /// Light grid lines at the labelled ticks, fainter ones at the minor (unlabelled) ticks.
    func grid() -> [String] {
        var out: [String] = []
        for tick in x.ticks {
            guard let px = x.fraction(tick.value).map({ $0 * Self.plotWidth }) else { continue }
            out.append("<line x1=\"\(n(px))\" y1=\"0\" x2=\"\(n(px))\" y2=\"\(n(Self.plotHeight))\" "
                + "stroke=\"\(tick.label == nil ? "#f0f0f0" : "#e0e0e0")\" stroke-width=\"1\"/>")
        }
        for tick in y.ticks {
            guard let py = y.fraction(tick.value).map({ (1 - $0) * Self.plotHeight }) else { continue }
            out.append("<line x1=\"0\" y1=\"\(n(py))\" x2=\"\(n(Self.plotWidth))\" y2=\"\(n(py))\" "
                + "stroke=\"\(tick.label == nil ? "#f0f0f0" : "#e0e0e0")\" stroke-width=\"1\"/>")
        }
        return out
    }

    /// Dashed grey lines with their label at the right end, above the line (below it near the top edge).
    func referenceLines() -> [String] {
        var out: [String] = []
        for line in chart.referenceLines {
            guard let f = y.fraction(line.y), f >= 0, f <= 1 else { continue }
            let py = (1 - f) * Self.plotHeight
            out.append("<line x1=\"0\" y1=\"\(n(py))\" x2=\"\(n(Self.plotWidth))\" y2=\"\(n(py))\" "
                + "stroke=\"#777777\" stroke-width=\"1.2\" stroke-dasharray=\"5 4\"/>")
            let labelY = py < 16 ? py + 13 : py - 4
            out.append(text(Self.plotWidth - 4, labelY, line.label, size: Self.tickFont, anchor: "end",
                            extra: " fill=\"#555555\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\""))
        }
        return out
    }

    /// Error bars and the line (broken at undrawable points), and separately the markers. `shift` moves the
    /// whole curve sideways by a few pixels so that error bars of neighbouring series at one x stay apart.
    func series(_ series: ChartSeries, style: SeriesStyle, shift: Double) -> (lines: [String], markers: [String]) {
        var out: [String] = []
        var path = ""
        var penDown = false
        var markers: [String] = []
        for point in series.points {
            guard var p = pixel(point.x, point.y) else {
                penDown = false
                continue
            }
            p.x += shift
            path += (penDown ? " L" : (path.isEmpty ? "M" : " M")) + "\(n(p.x)) \(n(p.y))"
            penDown = true
            markers.append(style.marker(p.x, p.y, size: Self.markerSize))
            if let bar = errorBar(point, at: p, colour: style.colour) { out.append(bar) }
        }
        if path.contains("L") {
            out.append("<path d=\"\(path)\" fill=\"none\" stroke=\"\(style.colour)\" stroke-width=\"1.8\" "
                + "stroke-linejoin=\"round\"\(style.dashAttribute)/>")
        }
        return (out, markers)
    }

    /// A vertical bar from y - error to y + error clamped to the plot area, with 8 px caps at the ends that
    /// are inside it (a clamped end has no cap: the bar runs on past the edge).
    func errorBar(_ point: ChartPoint, at p: (x: Double, y: Double), colour: String) -> String? {
        guard let error = point.error, error.isFinite, error != 0 else { return nil }
        let h = Self.plotHeight
        let top = y.fraction(point.y + abs(error)).map { (1 - $0) * h } ?? -Double.infinity
        let bottom = y.fraction(point.y - abs(error)).map { (1 - $0) * h } ?? Double.infinity
        let (y1, y2) = (min(max(top, 0), h), min(max(bottom, 0), h))
        guard y1 < y2 else { return nil }
        var d = "M\(n(p.x)) \(n(y1)) V\(n(y2))"
        if top >= 0 && top <= h { d += " M\(n(p.x - 4)) \(n(y1)) H\(n(p.x + 4))" }
        if bottom >= 0 && bottom <= h { d += " M\(n(p.x - 4)) \(n(y2)) H\(n(p.x + 4))" }
        return "<path d=\"\(d)\" stroke=\"\(colour)\" stroke-width=\"1.2\" fill=\"none\"/>"
    }

    /// Tick marks outside the frame at the labelled ticks, with labels thinned to every k-th where they
    /// would otherwise collide.
    func ticks(showYLabels: Bool) -> [String] {
        var out: [String] = []
        let (w, h, t) = (Self.plotWidth, Self.plotHeight, Self.tickLength)
        let xTicks = x.ticks.filter { $0.label != nil }
        let xStride = labelStride(xTicks.map { x.fraction($0.value)! * w }, room: xLabelWidth + 6)
        for (i, tick) in xTicks.enumerated() {
            let px = x.fraction(tick.value)! * w
            out.append("<line x1=\"\(n(px))\" y1=\"\(n(h))\" x2=\"\(n(px))\" y2=\"\(n(h + t))\" stroke=\"#333333\"/>")
            if i % xStride == 0 { out.append(text(px, h + t + 13, tick.label!, size: Self.tickFont, anchor: "middle")) }
        }
        let yTicks = y.ticks.filter { $0.label != nil }
        let yStride = labelStride(yTicks.map { (1 - y.fraction($0.value)!) * h }, room: Self.tickFont + 3)
        for (i, tick) in yTicks.enumerated() {
            let py = (1 - y.fraction(tick.value)!) * h
            out.append("<line x1=\"\(n(-t))\" y1=\"\(n(py))\" x2=\"0\" y2=\"\(n(py))\" stroke=\"#333333\"/>")
            if showYLabels && i % yStride == 0 {
                out.append(text(-t - 3, py + 4, tick.label!, size: Self.tickFont, anchor: "end"))
            }
        }
        return out
    }

    /// Smallest k such that labelling every k-th tick leaves `room` pixels between neighbouring labels.
    func labelStride(_ positions: [Double], room: Double) -> Int {
        let gaps = zip(positions, positions.dropFirst()).map { abs($1 - $0) }
        guard let smallest = gaps.min(), smallest > 0 else { return 1 }
        return max(1, Int((room / smallest).rounded(.up)))
    }

    // MARK: primitives

    func n(_ value: Double) -> String { SVGText.number(value) }

    func text(_ px: Double, _ py: Double, _ content: String, size: Double, anchor: String = "start",
              extra: String = "") -> String {
        "<text x=\"\(n(px))\" y=\"\(n(py))\" font-size=\"\(n(size))\" text-anchor=\"\(anchor)\"\(extra)>"
            + SVGText.escaped(content) + "</text>"
    }
}

/// Colour, marker shape and dash pattern of the series with style index `index` (order of first appearance):
/// Okabe-Ito colours without the yellow, which is too pale for lines on white.
struct SeriesStyle {
    static let palette = ["#0072B2", "#D55E00", "#CC79A7", "#009E73", "#E69F00", "#56B4E9", "#000000"]
    static let dashes: [String?] = [nil, "7 3", "2 3", "8 3 2 3"]
    let colour: String
    let shape: Int
    let dash: String?

    init(index: Int) {
        colour = Self.palette[index % Self.palette.count]
        shape = index % 6
        dash = Self.dashes[index % Self.dashes.count]
    }

    var dashAttribute: String { dash.map { " stroke-dasharray=\"\($0)\"" } ?? "" }

    /// Marker centred at (x, y) with radius-like `size`: circle, square, triangle up, diamond, triangle down,
    /// cross, by `shape`; filled in the series colour with a thin white outline to separate overlaps.
    func marker(_ x: Double, _ y: Double, size s: Double) -> String {
        let n = { (v: Double) in SVGText.number(v) }
        let outline = "fill=\"\(colour)\" stroke=\"white\" stroke-width=\"0.8\""
        func polygon(_ corners: [(Double, Double)]) -> String {
            "<path d=\"M" + corners.map { "\(n(x + $0.0 * s)) \(n(y + $0.1 * s))" }.joined(separator: " L")
                + " Z\" \(outline)/>"
        }
        switch shape {
        case 0: return "<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"\(n(s))\" \(outline)/>"
        case 1: return polygon([(-0.9, -0.9), (0.9, -0.9), (0.9, 0.9), (-0.9, 0.9)])
        case 2: return polygon([(0, -1.25), (1.15, 0.8), (-1.15, 0.8)])
        case 3: return polygon([(0, -1.3), (1.05, 0), (0, 1.3), (-1.05, 0)])
        case 4: return polygon([(0, 1.25), (1.15, -0.8), (-1.15, -0.8)])
        default:
            return "<path d=\"M\(n(x - s)) \(n(y - s)) L\(n(x + s)) \(n(y + s)) M\(n(x - s)) \(n(y + s)) "
                + "L\(n(x + s)) \(n(y - s))\" stroke=\"\(colour)\" stroke-width=\"2.2\" fill=\"none\"/>"
        }
    }
}
