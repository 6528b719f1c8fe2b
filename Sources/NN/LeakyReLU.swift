import TensorCore

/// Leaky ReLU (Maas, Hannun & Ng 2013, "Rectifier Nonlinearities Improve Neural Network Acoustic
/// Models"), as `torch.nn.LeakyReLU(negative_slope)`, default slope 0.01 as PyTorch's.
///
/// Legend: any shape; `s = negativeSlope`.
/// - Forward: `y = x > 0 ? x : s * x` (PyTorch's CPU kernel; `x = 0` gives `s * 0 = 0`, `-0` stays
///   `-0`, NaN stays NaN).
/// - Backward: `dx = x > 0 ? dy : s * dy`: the gradient at exactly 0 is `s * dy`, as
///   `torch.nn.functional.leaky_relu`'s backward, which tests `x > 0` (a ReLU's subgradient at 0 is 0,
///   this one's is the slope).
/// Forward keeps a reference to its input (the mask is `x > 0`, which `y` cannot give for `s <= 0`).
public final class LeakyReLU: Layer {
    /// `s`, the slope for `x <= 0`.
    public let negativeSlope: Float

    private var input: Tensor?
    private let output = Tensor()
    private let inputGradient = Tensor()
    /// The forward's threads (`mode.threads`), for blocks of values; backward uses them too.
    private var threads = ComputeThreads.serial

    /// - Parameter negativeSlope: `s`, any finite number (PyTorch accepts every float).
    public init(negativeSlope: Float = 0.01) {
        precondition(negativeSlope.isFinite, "LeakyReLU: negative slope must be finite, got \(negativeSlope)")
        self.negativeSlope = negativeSlope
    }

    public var name: String { "LeakyReLU(\(negativeSlope))" }
    public func clone() -> LeakyReLU { LeakyReLU(negativeSlope: negativeSlope) }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        input = x
        threads = mode.threads
        output.resize(to: x.shape)
        apply(mask: x, values: x, into: output)
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        precondition(dy.shape == x.shape, "\(name): gradient \(dy.shape) does not match input \(x.shape)")
        inputGradient.resize(to: dy.shape)
        apply(mask: x, values: dy, into: inputGradient)
        return inputGradient
    }

    /// ``scaleWhereNotPositive(mask:values:_:count:slope:)`` over blocks of values on ``threads``.
    private func apply(mask: Tensor, values: Tensor, into out: Tensor) {
        let (m, v, o, slope) = (UnsafePointer(mask.data), UnsafePointer(values.data), out.data, negativeSlope)
        threads.forEachBlock(out.count, work: out.count) { block in
            let i = block.lowerBound
            LeakyReLU.scaleWhereNotPositive(mask: m + i, values: v + i, o + i, count: block.count, slope: slope)
        }
    }

    /// `out[i] = mask[i] > 0 ? values[i] : slope * values[i]`, eight at a time. Forward is
    /// `(x, x)`, backward `(x, dy)`.
    private static func scaleWhereNotPositive(mask: UnsafePointer<Float>, values: UnsafePointer<Float>,
                                              _ out: UnsafeMutablePointer<Float>, count: Int, slope: Float) {
        var i = 0
        while i + 8 <= count {
            let m = UnsafeRawPointer(mask + i).loadUnaligned(as: SIMD8<Float>.self)
            let v = UnsafeRawPointer(values + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: v.replacing(with: v * slope, where: .!(m .> 0)),
                                                        as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { out[i] = mask[i] > 0 ? values[i] : slope * values[i]; i += 1 }
    }
}
