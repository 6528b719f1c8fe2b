import TensorCore

/// What ``GroupNorm`` and ``LayerNorm`` share, owned by each layer: per-sample normalization over
/// contiguous segments, a segment being the `L` values of one (sample, group) (LayerNorm: of one
/// sample). Each layer applies its own affine (per channel, or elementwise) between the calls below.
///
/// `mean = sum x / L`, `var = sum (x - mean)^2 / L` (biased), `invStd = 1 / sqrt(var + eps)`,
/// `xhat = (x - mean) * invStd`. Backward, given `g = dL/dxhat` for the segment:
/// `dx = invStd * (g - mean(g) - xhat * mean(g * xhat))`.
///
/// Forward keeps a reference to `x` and `(segments)` buffers of mean and invStd; backward
/// recomputes `xhat` from them.
final class SegmentNormalization {
    let eps: Float
    /// The forward's result, sized by ``beginForward(_:segments:)``; the layer writes it.
    let output = Tensor()
    /// `dL/dxhat` of one segment, sized by ``beginBackward(_:length:layer:)``; the layer writes it
    /// before ``backpropagate(_:segment:length:)`` reads it.
    let dxhat = Tensor()
    /// The backward's result, written segment by segment by ``backpropagate(_:segment:length:)``.
    let inputGradient = Tensor()

    private var input: Tensor?
    private let savedMean = Tensor()
    private let savedInvStd = Tensor()

    init(eps: Float) { self.eps = eps }

    /// Keeps `x` for backward and sizes ``output`` like it and the statistics for `segments` segments.
    func beginForward(_ x: Tensor, segments: Int) {
        input = x
        output.resize(to: x.shape)
        savedMean.resize(to: Shape(segments))
        savedInvStd.resize(to: Shape(segments))
    }

    /// Mean and invStd of the `length` values at `x`, kept for backward as segment `s`'s.
    @inline(__always)
    func measure(_ x: UnsafePointer<Float>, segment s: Int, length: Int) -> (mean: Float, invStd: Float) {
        let (mean, invStd) = SegmentNormalization.statistics(x, count: length, eps: eps)
        savedMean.data[s] = mean
        savedInvStd.data[s] = invStd
        return (mean, invStd)
    }

    /// The input of the last forward, checked against `dy`; sizes ``inputGradient`` like it and
    /// ``dxhat`` for a segment of `length` values.
    func beginBackward(_ dy: Tensor, length: Int, layer: @autoclosure () -> String) -> Tensor {
        guard let x = input else { preconditionFailure("\(layer()): backward before forward") }
        precondition(dy.shape == x.shape, "\(layer()): gradient \(dy.shape) does not match input \(x.shape)")
        inputGradient.resize(to: x.shape)
        dxhat.resize(to: Shape(length))
        return x
    }

    /// The mean and invStd that forward kept for segment `s`.
    @inline(__always)
    func saved(segment s: Int) -> (mean: Float, invStd: Float) { (savedMean.data[s], savedInvStd.data[s]) }

    /// Writes segment `s` of ``inputGradient`` from ``dxhat`` and the segment's input values `x`.
    @inline(__always)
    func backpropagate(_ x: UnsafePointer<Float>, segment s: Int, length: Int) {
        let (mean, invStd) = saved(segment: s)
        SegmentNormalization.inputGradient(x: x, dxhat: dxhat.data, dx: inputGradient.data + s * length,
                                           count: length, mean: mean, invStd: invStd)
    }

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
