import TensorCore

/// `y = max(x, 0)`; `dx = dy` where `x > 0`, else 0 (PyTorch's subgradient at 0 is 0).
/// Forward keeps a reference to its output (the mask is `y > 0`).
public final class ReLU: Layer {
    private let output = Tensor()
    private let inputGradient = Tensor()

    public init() {}
    public var name: String { "ReLU" }
    public func clone() -> Layer { ReLU() }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        output.resize(to: x.shape)
        let src = x.data, dst = output.data
        for i in 0..<x.count { dst[i] = src[i] > 0 ? src[i] : 0 }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.shape == output.shape, "ReLU: gradient \(dy.shape) does not match output \(output.shape)")
        inputGradient.resize(to: dy.shape)
        let y = output.data, g = dy.data, dx = inputGradient.data
        for i in 0..<dy.count { dx[i] = y[i] > 0 ? g[i] : 0 }
        return inputGradient
    }
}
