import Foundation

/// How an axis maps data values to positions.
///
/// - `linear`: position ∝ v; ticks at "nice" steps 1, 2 or 5 × 10^k, about six of them.
/// - `log2`:   position ∝ log2(v); ticks at the powers of two in range, labelled 1, 2, 4, ..., 128
///             (0.5, 0.25, 0.125 below one). Values ≤ 0 cannot be drawn and are skipped.
/// - `log10`:  position ∝ log10(v); ticks at the decades in range, labelled 0.001, 0.01, 0.1, 1, 10,
///             with unlabelled grid lines at 2..9 × 10^k. Values ≤ 0 are skipped.
public enum AxisScale: String, Sendable, Equatable, CaseIterable {
    case linear, log2, log10

    /// The coordinate along the axis before scaling to pixels: v, log2(v) or log10(v);
    /// nil when v is not finite or, on a log scale, not positive.
    func transform(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        switch self {
        case .linear: return value
        case .log2: return value > 0 ? Foundation.log2(value) : nil
        case .log10: return value > 0 ? Foundation.log10(value) : nil
        }
    }
}

/// One axis of a chart, shared by all its panels: a title with its unit, a scale and a range.
public struct ChartAxis: Sendable, Equatable {
    /// Axis title including the unit, e.g. "test accuracy (%)" or "batch size".
    public let title: String
    /// Linear or logarithmic mapping; see `AxisScale`.
    public let scale: AxisScale
    /// Visible data range; nil takes it from the data (points and their error bars) padded by 5 % of the
    /// span on each side, the span measured after the scale's transform.
    public let range: ClosedRange<Double>?

    /// Creates an axis. An explicit range must be finite with lower < upper, and positive on a log scale;
    /// anything else is a programming error and stops with the axis title and the offending range.
    public init(title: String, scale: AxisScale = .linear, range: ClosedRange<Double>? = nil) {
        if let range {
            precondition(range.lowerBound.isFinite && range.upperBound.isFinite
                && range.lowerBound < range.upperBound,
                "ChartAxis '\(title)': range \(range) must be finite with lower < upper")
            precondition(scale == .linear || range.lowerBound > 0,
                "ChartAxis '\(title)': \(scale) range \(range) must be positive")
        }
        self.title = title
        self.scale = scale
        self.range = range
    }
}

/// One tick on a resolved axis: a data value and its label; a nil label marks a minor tick
/// (a faint grid line only).
struct AxisTick: Equatable {
    var value: Double
    var label: String?
}

/// A `ChartAxis` fixed to concrete numbers: the transformed domain and the ticks inside it.
struct ResolvedAxis {
    let scale: AxisScale
    /// Domain bounds after the transform (log2(v) on a log2 axis).
    let lower: Double
    let upper: Double
    /// Ticks inside the domain, ascending.
    let ticks: [AxisTick]

    /// Resolves `axis` against the data values it has to show (non-drawable values are ignored).
    init(axis: ChartAxis, values: [Double]) {
        scale = axis.scale
        if let range = axis.range {
            lower = scale.transform(range.lowerBound)!
            upper = scale.transform(range.upperBound)!
        } else {
            (lower, upper) = ResolvedAxis.paddedDomain(scale: axis.scale, values: values)
        }
        ticks = ResolvedAxis.ticks(scale: scale, lower: lower, upper: upper)
    }

    /// Fraction of the way from the lower to the upper end (0...1 inside), nil if not drawable.
    func fraction(_ value: Double) -> Double? {
        scale.transform(value).map { ($0 - lower) / (upper - lower) }
    }

    /// Transformed data extent padded by 5 % per side; a single value gets a span of its own.
    static func paddedDomain(scale: AxisScale, values: [Double]) -> (Double, Double) {
        let transformed = values.compactMap(scale.transform)
        guard var low = transformed.min(), var high = transformed.max() else {
            return scale == .linear ? (0, 1) : (0, scale == .log2 ? 3 : 1)
        }
        if high - low < 1e-12 {
            let half = scale == .linear ? max(abs(low) * 0.1, 0.5) : 0.5
            low -= half
            high += half
        }
        let pad = 0.05 * (high - low)
        return (low - pad, high + pad)
    }

    /// Ticks for a transformed domain: powers on log scales when at least two fit, nice linear steps
    /// otherwise.
    static func ticks(scale: AxisScale, lower: Double, upper: Double) -> [AxisTick] {
        switch scale {
        case .log2:
            let powers = integers(from: lower, to: upper).map {
                AxisTick(value: pow(2, Double($0)), label: powerOfTwoLabel($0))
            }
            if powers.count >= 2 { return powers }
        case .log10:
            let decades = integers(from: lower, to: upper)
            var ticks: [AxisTick] = []
            for k in (decades.first ?? Int(lower.rounded(.down))) - 1 ... (decades.last ?? Int(upper.rounded(.up))) {
                for m in 1...9 {
                    let value = Double(m) * pow(10, Double(k))
                    let t = Foundation.log10(value)
                    guard t >= lower - 1e-9, t <= upper + 1e-9 else { continue }
                    let labelled = m == 1 || (decades.count < 2 && (m == 2 || m == 5))
                    ticks.append(AxisTick(value: value, label: labelled ? decadeLabel(m, k) : nil))
                }
            }
            if ticks.filter({ $0.label != nil }).count >= 2 { return ticks }
        case .linear:
            break
        }
        return linearTicks(scale: scale, lower: lower, upper: upper)
    }

    /// Integers k with lower ≤ k ≤ upper (a hair of slack for rounding in log2/log10).
    static func integers(from lower: Double, to upper: Double) -> [Int] {
        let first = Int((lower - 1e-9).rounded(.up)), last = Int((upper + 1e-9).rounded(.down))
        return first <= last ? Array(first...last) : []
    }

    /// Multiples k × step of the step in {1, 2, 5} × 10^j whose tick count inside the data range is
    /// closest to six (ties go to more ticks). On a log scale the range is taken back to data units.
    static func linearTicks(scale: AxisScale, lower: Double, upper: Double) -> [AxisTick] {
        let low = scale == .linear ? lower : inverse(scale, lower)
        let high = scale == .linear ? upper : inverse(scale, upper)
        let magnitude = Int((Foundation.log10(high - low)).rounded(.down))
        var best: (step: Double, decimals: Int, count: Int)?
        for exponent in (magnitude - 2)...(magnitude + 1) {
            for mantissa in [1.0, 2.0, 5.0] {
                let step = mantissa * pow(10, Double(exponent))
                let count = integers(from: low / step, to: high / step).count
                if best == nil || abs(count - 6) < abs(best!.count - 6)
                    || (abs(count - 6) == abs(best!.count - 6) && count > best!.count) {
                    best = (step, max(0, -exponent), count)
                }
            }
        }
        guard let best else { return [] }
        return integers(from: low / best.step, to: high / best.step).compactMap { k in
            let value = Double(k) * best.step
            guard scale.transform(value) != nil else { return nil }
            return AxisTick(value: value, label: SVGText.number(value, decimals: best.decimals))
        }
    }

    static func inverse(_ scale: AxisScale, _ t: Double) -> Double {
        switch scale {
        case .linear: return t
        case .log2: return pow(2, t)
        case .log10: return pow(10, t)
        }
    }

    /// "1", "2", ..., "128" for k ≥ 0; "0.5", "0.25", "0.125" for -3 ≤ k < 0; "1/16", ... below.
    static func powerOfTwoLabel(_ k: Int) -> String {
        if k >= 0 { return k < 63 ? String(1 << k) : "2^\(k)" }
        if k >= -3 { return SVGText.number(pow(2, Double(k)), decimals: -k) }
        return k > -63 ? "1/\(1 << -k)" : "2^\(k)"
    }

    /// m × 10^k written out in full ("0.001", "20", "1000") for |k| ≤ 6, as "1e-7" style beyond.
    static func decadeLabel(_ m: Int, _ k: Int) -> String {
        if abs(k) > 6 { return "\(m)e\(k)" }
        return SVGText.number(Double(m) * pow(10, Double(k)), decimals: max(0, -k))
    }
}
