import TensorCore

/// `(N, C, H, W) -> (N, C*H*W)`, as `torch.nn.Flatten()`. A copy, so the
/// layer that produced the input keeps its own tensor's shape.
public final class Flatten: ParameterlessLayer {
    private var inputShape = Shape(0)
    private let output = Tensor()
    private let inputGradient = Tensor()

    public init() {}

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        inputShape = x.shape
        output.resize(to: Shape(x.shape.batch, x.shape.perSample))
        output.data.update(from: x.data, count: x.count)
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.count == inputShape.count, "Flatten: gradient \(dy.shape) does not match input \(inputShape)")
        inputGradient.resize(to: inputShape)
        inputGradient.data.update(from: dy.data, count: dy.count)
        return inputGradient
    }
}
