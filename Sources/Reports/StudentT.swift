import Foundation

/// Student's t distribution with `df` degrees of freedom: the distribution of
/// `(mean - mu) / (s / sqrt(n))` for n = df + 1 independent normal samples, which the
/// summary's 95% confidence intervals over seeds use (`ci95 = t_{0.975, n-1} * s / sqrt(n)`).
///
/// `cdf(t) = 1 - I_x(df/2, 1/2) / 2` for `t >= 0`, with `x = df / (df + t^2)` and `I` the
/// regularized incomplete beta function (continued fraction, modified Lentz; Numerical
/// Recipes 3rd ed. 6.4); `quantile` inverts it by bisection. Held to scipy.stats.t in the tests.
public enum StudentT {
    /// P(T <= t).
    public static func cdf(_ t: Double, df: Double) -> Double {
        precondition(df > 0, "StudentT: df must be > 0, got \(df)")
        let tail = 0.5 * regularizedIncompleteBeta(x: df / (df + t * t), a: df / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The t with P(T <= t) = p, for 0 < p < 1 (to 1e-12 relative).
    public static func quantile(_ p: Double, df: Double) -> Double {
        precondition(p > 0 && p < 1, "StudentT: p must be in (0, 1), got \(p)")
        if p < 0.5 { return -quantile(1 - p, df: df) }
        var low = 0.0, high = 1.0
        while cdf(high, df: df) < p { high *= 2 }
        for _ in 0..<200 where high - low > 1e-12 * high {
            let middle = (low + high) / 2
            if cdf(middle, df: df) < p { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }

    /// The half-width of the two-sided 95% interval of a mean of `n` samples with sample
    /// standard deviation `std`: `t_{0.975, n-1} * std / sqrt(n)`; nil for n < 2.
    public static func halfWidth95(std: Double, n: Int) -> Double? {
        guard n >= 2 else { return nil }
        return quantile(0.975, df: Double(n - 1)) * std / Double(n).squareRoot()
    }

    /// I_x(a, b).
    static func regularizedIncompleteBeta(x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logBeta: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logFront: Double = logBeta + a * log(x) + b * log(1 - x)
        // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
        if x < (a + 1) / (a + b + 2) { return exp(logFront) * continuedFraction(x: x, a: a, b: b) / a }
        return 1 - exp(logFront) * continuedFraction(x: 1 - x, a: b, b: a) / b
    }

    private static func continuedFraction(x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        d = 1 / (abs(d) < tiny ? tiny : d)
        var h = d
        for m in 1...300 {
            let m = Double(m), m2 = 2 * m
            for numerator in [m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
                              -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))] {
                d = 1 + numerator * d
                d = 1 / (abs(d) < tiny ? tiny : d)
                c = 1 + numerator / c
                if abs(c) < tiny { c = tiny }
                h *= d * c
            }
            if abs(d * c - 1) < 1e-15 { break }
        }
        return h
    }
}
