import TensorCore

/// A conv followed by its Cross-Iteration BatchNorm: the explicit connection that gives the norm
/// the conv's weight and im2col columns (``CrossIterationBatchNorm/forward(_:mode:conv:)``), as
/// mmdet's ConvModule and ResNet blocks call `self.norm(x, self.conv.weight)` in the authors' code.
///
/// Shapes: `x (N, C, H, W)` -> conv -> `y (N, O, OH, OW)` -> norm -> `(N, O, OH, OW)`. Backward: the
/// norm's, then the conv's. The two layers are its ``children``, named ``names`` (default `0`, `1`:
/// in a cnn the state-dict keys `INDEX.0.weight` for the conv, `INDEX.1.weight`, `INDEX.1.bias`,
/// `INDEX.1.running_mean`, `INDEX.1.running_var` for the norm; in the residual network `conv1` and
/// `bn1`, which its parent lists in its place: ``ConvNorm``, ``Sequential/init(named:)``); a clone
/// clones both, so the copy's norm reads the copy's conv.
public final class ConvCrossIterationBatchNorm: Layer {
    public let conv: Conv2d
    public let norm: CrossIterationBatchNorm
    /// The children's names (``Layer/namedChildren``).
    public let names: (conv: String, norm: String)

    public init(conv: Conv2d, norm: CrossIterationBatchNorm, names: (conv: String, norm: String) = ("0", "1")) {
        precondition(conv.outChannels == norm.numFeatures,
                     "ConvCrossIterationBatchNorm: \(conv.name) has \(conv.outChannels) outputs, \(norm.name) \(norm.numFeatures)")
        self.conv = conv
        self.norm = norm
        self.names = names
    }

    public var name: String { "\(conv.name) -> \(norm.name)" }
    public var parameters: [Parameter] { conv.parameters + norm.parameters }
    public var children: [Layer] { [conv, norm] }
    public var namedChildren: [(name: String, layer: Layer)] { [(names.conv, conv), (names.norm, norm)] }
    public var computesInputGradient: Bool { conv.computesInputGradient }
    public func clone() -> ConvCrossIterationBatchNorm {
        ConvCrossIterationBatchNorm(conv: conv.clone(), norm: norm.clone(), names: names)
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try norm.forward(try conv.forward(x, mode: mode), mode: mode, conv: conv)
    }

    /// The forward with `observe` called on each child before it runs: the conv on `x`, the norm on
    /// the conv's output.
    public func forward(_ x: Tensor, mode: Mode, observingLeaves observe: (Layer, Tensor) throws -> Void) throws -> Tensor {
        try observe(conv, x)
        let y = try conv.forward(x, mode: mode)
        try observe(norm, y)
        return try norm.forward(y, mode: mode, conv: conv)
    }

    public func backward(_ dy: Tensor) -> Tensor { conv.backward(norm.backward(dy)) }
}
