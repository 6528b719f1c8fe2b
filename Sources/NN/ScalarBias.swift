import TensorCore

/// `y = x + b` with one learned scalar `b` (init 0), as Fixup's `x + self.bias1` (Zhang, Dauphin & Ma
/// 2019, "Fixup Initialization: Residual Learning Without Normalization"; the authors'
/// `fixup_resnet_cifar.py`): a bare `nn.Parameter(torch.zeros(1))` of shape `(1)` added to every value.
///
/// Legend: any shape. Backward: `dx = dy`, `db += sum(dy)` (summed in Double).
///
/// In a state dict the layer stands for that bare parameter: its one entry's key is the layer's own
/// path (`bias1`), not `bias1.bias` (``ParameterAttribute``).
public final class ScalarBias: Layer, ParameterAttribute {
    public let bias: Parameter
    private let output = Tensor()
    private let inputGradient = Tensor()

    public init() { bias = Parameter(name: "bias", value: Tensor(Shape(1))) }

    private init(copying other: ScalarBias) { bias = other.bias.copy() }

    public var name: String { "ScalarBias" }
    public var parameters: [Parameter] { [bias] }
    public func clone() -> ScalarBias { ScalarBias(copying: self) }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        output.resize(to: x.shape)
        let b = bias.value.data[0]
        for i in 0..<x.count { output.data[i] = x.data[i] + b }
        return output
    }

    /// `dx = dy` (a copy, the layer's own), `db += sum(dy)`.
    public func backward(_ dy: Tensor) -> Tensor {
        bias.gradient.data[0] += Float(ScalarBias.sum(dy))
        inputGradient.resize(to: dy.shape)
        inputGradient.data.update(from: dy.data, count: dy.count)
        return inputGradient
    }

    /// `sum(t)` in Double.
    static func sum(_ t: Tensor) -> Double {
        var s = 0.0
        for i in 0..<t.count { s += Double(t.data[i]) }
        return s
    }
}

/// A layer that stands for a bare `nn.Parameter` attribute of the module holding it (Fixup's
/// `bias1`): its single parameter's state-dict key is the layer's path itself.
public protocol ParameterAttribute: Layer {}
