import TensorCore

/// A trainable tensor and the gradient that `backward` accumulates into it.
///
/// Gradients accumulate with `+=` (llm.c's convention); call ``zeroGradient()``
/// (or ``Layer/zeroGradients()``, or the optimizer's `zeroGradients`) before each step.
/// Zeroing is lazy, like PyTorch's `zero_grad(set_to_none=True)`: it only marks the
/// gradient, and the first accumulation afterwards may overwrite instead of adding
/// (``takeGradientAccumulationBeta()``). Reading ``gradient`` always sees the true
/// value: a pending zero is written out first.
public final class Parameter {
    public let name: String
    public let value: Tensor
    private let storedGradient: Tensor
    private var gradientIsPendingZero = false

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
        self.storedGradient = Tensor(value.shape)
    }

    /// dLoss/dValue as accumulated so far (zeros after ``zeroGradient()``).
    public var gradient: Tensor {
        if gradientIsPendingZero {
            storedGradient.fill(0)
            gradientIsPendingZero = false
        }
        return storedGradient
    }

    /// Sets the gradient to zero (lazily; see the type's summary).
    public func zeroGradient() { gradientIsPendingZero = true }

    /// For a backward kernel about to do `gradient = beta * gradient + contribution` over EVERY
    /// value: `0` when the gradient is a pending zero (the kernel overwrites it), `1` otherwise.
    /// Returns the gradient tensor to write; the pending zero is consumed.
    public func takeGradientAccumulationBeta() -> (gradient: Tensor, beta: Float) {
        let beta: Float = gradientIsPendingZero ? 0 : 1
        gradientIsPendingZero = false
        return (storedGradient, beta)
    }

    /// A real copy (value and gradient).
    public func copy() -> Parameter {
        let p = Parameter(name: name, value: value.copy())
        p.storedGradient.assign(gradient)
        return p
    }
}

extension Parameter {
    /// The elementwise affine of a normalization layer over `count` values, PyTorch's init:
    /// `weight = 1`, `bias = 0`.
    static func normalizationAffine(count: Int) -> (weight: Parameter, bias: Parameter) {
        let weight = Parameter(name: "weight", value: Tensor(Shape(count)))
        weight.value.fill(1)
        return (weight, Parameter(name: "bias", value: Tensor(Shape(count))))
    }
}

/// A layer: a forward and a hand-written backward, side by side.
///
/// Ownership (see ``Tensor``): the tensor returned by `forward` or `backward`
/// belongs to the layer and is overwritten by its next call. A layer may keep
/// a reference to its input for `backward`; callers must not change the
/// input between `forward` and `backward`.
public protocol Layer: AnyObject {
    /// A short description for logs and errors, e.g. `Conv2d(1->16, k3, s1, p1)`.
    var name: String { get }

    /// Computes the output for `input` in `mode`. Throws for inputs PyTorch
    /// refuses (BatchNorm training with one value per channel, bad shapes).
    func forward(_ input: Tensor, mode: Mode) throws -> Tensor

    /// Given dLoss/dOutput for the last `forward`, accumulates dLoss/dParameter
    /// into each parameter's gradient (`+=`) and returns dLoss/dInput.
    func backward(_ outputGradient: Tensor) -> Tensor

    /// The trainable parameters, in a fixed order.
    var parameters: [Parameter] { get }

    /// A deep copy of the same type (`Sequential.clone()` is a `Sequential`): parameters,
    /// running statistics and random state are copied; workspaces are not. Changing the
    /// copy never changes `self`.
    func clone() -> Self

    /// The layers inside this one (for containers), in order; empty for a leaf.
    var children: [Layer] { get }

    /// ``children`` under the attribute names of the layer's PyTorch twin (`conv1`, `bn1`,
    /// `downsample`; the positions `0`, `1`, ... of an `nn.Sequential`): the state-dict keys
    /// (``StateDictEntry``). Default: the positions.
    var namedChildren: [(name: String, layer: Layer)] { get }

    /// The parameters that belong to this layer itself, not to one of its children, in PyTorch's
    /// registration order (Fixup's scalar biases of a block); state dicts list them before the
    /// children's. Default: ``parameters`` for a leaf, none for a container.
    var ownParameters: [Parameter] { get }

    /// `forward(x, mode:)`, calling `observe(leaf, input)` with each leaf layer and the input it is
    /// about to get, in the order they run (a container passes it on to its children). For measuring
    /// what layers see (``Sequential/forward(_:mode:observingLeaves:)`` in the running-statistics probe,
    /// the bench's FLOP count) without changing anything.
    func forward(_ input: Tensor, mode: Mode, observingLeaves observe: (Layer, Tensor) throws -> Void) throws -> Tensor

    /// Whether `backward` returns dLoss/dInput. Layers that may skip it (the first
    /// weight layer of a model: ``Conv2d``, ``Linear``) return an empty tensor
    /// instead, and ``Sequential`` stops the backward pass there.
    var computesInputGradient: Bool { get }
}

public extension Layer {
    var parameters: [Parameter] { [] }
    var children: [Layer] { [] }
    var namedChildren: [(name: String, layer: Layer)] { children.enumerated().map { ("\($0)", $1) } }
    var ownParameters: [Parameter] { children.isEmpty ? parameters : [] }
    var computesInputGradient: Bool { true }

    /// A leaf's: `observe(self, input)`, then its forward. Containers implement their own.
    func forward(_ input: Tensor, mode: Mode, observingLeaves observe: (Layer, Tensor) throws -> Void) throws -> Tensor {
        precondition(children.isEmpty, "\(name): a container must pass the observer to its children")
        try observe(self, input)
        return try forward(input, mode: mode)
    }

    /// This layer and every layer inside it, depth first.
    var allLayers: [Layer] { [self] + children.flatMap { $0.allLayers } }

    func zeroGradients() {
        for p in parameters { p.zeroGradient() }
    }
}

/// A layer with no parameters and no settings (``Flatten``, ``GlobalAvgPool2d``, ``ReLU``): its name
/// is its type's, and a clone is a new instance (it holds nothing but workspaces, which clones never copy).
public protocol ParameterlessLayer: Layer {
    init()
}

public extension ParameterlessLayer {
    var name: String { String(describing: Self.self) }
    func clone() -> Self { Self() }
}

/// A layer that draws random numbers in train mode (``Dropout``, ``DropPath``) from a stream it owns.
public protocol StochasticLayer: Layer {
    /// Replaces the random stream (Monte-Carlo passes draw a fresh stream per pass).
    func reseed(_ generator: RandomGenerator)
}

/// A shape or configuration error that PyTorch would raise as well.
public struct LayerError: Error, CustomStringConvertible, Equatable {
    public let layer: String
    public let message: String
    public init(layer: String, _ message: String) {
        self.layer = layer
        self.message = message
    }
    public var description: String { "\(layer): \(message)" }
}
