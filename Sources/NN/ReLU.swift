import TensorCore

/// `y = max(x, 0)`; `dx = dy` where `x > 0`, else 0 (PyTorch's subgradient at 0 is 0).
/// Forward keeps a reference to its output (the mask is `y > 0`). Element-wise, so blocks of values
/// run on the forward's threads (`mode.threads`) with the bits of one thread.
public final class ReLU: ParameterlessLayer {
    private let output = Tensor()
    private let inputGradient = Tensor()
    private var threads = ComputeThreads.serial

    public init() {}

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        output.resize(to: x.shape)
        threads = mode.threads
        let (x, y) = (UnsafePointer(x.data), output.data)
        threads.forEachBlock(output.count, work: output.count) { block in
            ReLU.keepWherePositive(x + block.lowerBound, x + block.lowerBound, y + block.lowerBound, count: block.count)
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.shape == output.shape, "ReLU: gradient \(dy.shape) does not match output \(output.shape)")
        inputGradient.resize(to: dy.shape)
        let (y, g, dx) = (UnsafePointer(output.data), UnsafePointer(dy.data), inputGradient.data)
        threads.forEachBlock(dy.count, work: dy.count) { block in
            ReLU.keepWherePositive(y + block.lowerBound, g + block.lowerBound, dx + block.lowerBound, count: block.count)
        }
        return inputGradient
    }

    /// `out[i] = mask[i] > 0 ? values[i] : 0` (a NaN mask gives 0), eight at a time. Forward is
    /// `(x, x)`: `x > 0 ? x : 0`, NaN -> 0; backward is `(y, dy)`: `y > 0 ? dy : 0`.
    private static func keepWherePositive(_ mask: UnsafePointer<Float>, _ values: UnsafePointer<Float>,
                                          _ out: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let m = UnsafeRawPointer(mask + i).loadUnaligned(as: SIMD8<Float>.self)
            let v = UnsafeRawPointer(values + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: v.replacing(with: 0, where: .!(m .> 0)), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { out[i] = mask[i] > 0 ? values[i] : 0; i += 1 }
    }
}
