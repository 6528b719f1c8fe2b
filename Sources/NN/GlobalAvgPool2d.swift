import TensorCore

/// Global average pooling, as `nn.AdaptiveAvgPool2d(1)` followed by `flatten(1)`:
/// `(N, C, H, W) -> (N, C)`, `y[n, c] = mean over H*W of x[n, c]`. Planes are independent: blocks of
/// them run on the forward's threads (`mode.threads`).
public final class GlobalAvgPool2d: ParameterlessLayer {
    private var inputShape = Shape(0)
    private let output = Tensor()
    private let inputGradient = Tensor()
    private var threads = ComputeThreads.serial

    public init() {}

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.shape.rank == 4 else { throw LayerError(layer: name, "expected input (N, C, H, W), got \(x.shape)") }
        inputShape = x.shape
        let hw = x.shape.spatial
        output.resize(to: Shape(x.shape.batch, x.shape.channels))
        threads = mode.threads
        let (input, out) = (UnsafePointer(x.data), output.data)
        threads.forEachBlock(output.count, work: x.count) { block in
            for plane in block {
                let src = input + plane * hw
                var s: Float = 0
                for i in 0..<hw { s += src[i] }
                out[plane] = s / Float(hw)
            }
        }
        return output
    }

    /// `dx[n, c, :, :] = dy[n, c] / (H*W)`.
    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.shape == output.shape, "\(name): gradient \(dy.shape) does not match output \(output.shape)")
        inputGradient.resize(to: inputShape)
        let hw = inputShape.spatial
        let (gradient, outputGradient) = (inputGradient.data, UnsafePointer(dy.data))
        threads.forEachBlock(dy.count, work: inputShape.count) { block in
            for plane in block { (gradient + plane * hw).update(repeating: outputGradient[plane] / Float(hw), count: hw) }
        }
        return inputGradient
    }
}
