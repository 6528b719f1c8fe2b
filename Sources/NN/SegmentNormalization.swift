/// Per-sample normalization over contiguous segments, shared by GroupNorm and
/// LayerNorm: a segment is the `L` values of one (sample, group).
///
/// `mean = sum x / L`, `var = sum (x - mean)^2 / L` (biased), `invStd = 1 / sqrt(var + eps)`,
/// `xhat = (x - mean) * invStd`. Backward, given `g = dL/dxhat` for the segment:
/// `dx = invStd * (g - mean(g) - xhat * mean(g * xhat))`.
enum SegmentNormalization {
    /// Mean and `1 / sqrt(biased var + eps)` of `L` values (Double accumulation).
    @inline(__always)
    static func statistics(_ x: UnsafePointer<Float>, count: Int, eps: Float) -> (mean: Float, invStd: Float) {
        var sum = 0.0
        for i in 0..<count { sum += Double(x[i]) }
        let mean = sum / Double(count)
        var sq = 0.0
        for i in 0..<count { let d = Double(x[i]) - mean; sq += d * d }
        return (Float(mean), Float(1 / (sq / Double(count) + Double(eps)).squareRoot()))
    }

    /// `dx = invStd * (g - mean(g) - xhat * mean(g * xhat))` for one segment, with
    /// `g` already holding `dL/dxhat` and `xhat` recomputed from `x`, `mean`, `invStd`.
    @inline(__always)
    static func inputGradient(x: UnsafePointer<Float>, dxhat g: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                              count: Int, mean: Float, invStd: Float) {
        var sumG = 0.0, sumGX = 0.0
        for i in 0..<count {
            sumG += Double(g[i])
            sumGX += Double(g[i]) * Double((x[i] - mean) * invStd)
        }
        let meanG = Float(sumG / Double(count)), meanGX = Float(sumGX / Double(count))
        for i in 0..<count {
            let xhat = (x[i] - mean) * invStd
            dx[i] = invStd * (g[i] - meanG - xhat * meanGX)
        }
    }
}
