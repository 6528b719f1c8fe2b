import TensorCore

/// A convolution and the norm after it (or none), with the conv that norm needs: the unit the
/// residual network (``ResidualNetwork``, ``ResidualBlock``) builds at every conv.
///
/// - no norm: the conv has a bias; a norm: no bias (torchvision's and timm's `bias=False`);
/// - before a ``MovingAverageBatchNorm``: centred weights and no bias (``Conv2d/centredWeights``,
///   MABN.py's `CenConv2d`), as the authors' ResNet builds every conv (megvii-model/MABN
///   `cls/networks/resnet.py`: its `Conv2d` centres the weight, `bias=False`, before each `MABN2d`);
/// - before a ``CrossIterationBatchNorm``: the conv and the norm joined in one
///   ``ConvCrossIterationBatchNorm``, which hands the norm its conv (the authors' mmdet ResNet calls
///   `self.norm1(out, self.conv1.weight)`, and `self.downsample[1](identity, self.downsample[0].weight)`).
///
/// Names: ``names`` are the state-dict names of the conv and the norm in the twin's parent module
/// (`conv1` and `bn1` in a block; `0` and `1` in a projection shortcut's `downsample`); the joined
/// pair carries them as its own children's names.
public struct ConvNorm {
    public let conv: Conv2d
    public let norm: Layer?
    public let names: (conv: String, norm: String)
    /// The pair as one layer when the norm is a Cross-Iteration BatchNorm.
    public let joined: ConvCrossIterationBatchNorm?

    /// `conv` then `norm`, joined when `norm` is a ``CrossIterationBatchNorm``.
    public init(conv: Conv2d, norm: Layer?, names: (conv: String, norm: String)) {
        self.conv = conv
        self.norm = norm
        self.names = names
        joined = (norm as? CrossIterationBatchNorm).map { ConvCrossIterationBatchNorm(conv: conv, norm: $0, names: names) }
    }

    /// The conv `norm` needs (see the type's summary), drawn from `rng` with PyTorch's default init.
    public static func make(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                            norm: Layer?, names: (conv: String, norm: String), computesInputGradient: Bool = true,
                            rng: inout RandomGenerator) -> ConvNorm {
        let conv = Conv2d(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                          bias: norm == nil, centredWeights: norm is MovingAverageBatchNorm,
                          computesInputGradient: computesInputGradient, rng: &rng)
        return ConvNorm(conv: conv, norm: norm, names: names)
    }

    /// The layers that run, in order: the conv and the norm, or the joined pair.
    public var layers: [Layer] { joined.map { [$0] } ?? [conv] + [norm].compactMap { $0 } }

    /// The conv and the norm under ``names``, in PyTorch's module order.
    public var namedLayers: [(name: String, layer: Layer)] {
        [(names.conv, conv)] + (norm.map { [(names.norm, $0)] } ?? [])
    }

    /// Entries of a named ``Sequential``: the named layers, or the joined pair under the empty name
    /// (its children take its place there: ``Sequential/init(named:)``).
    public var sequentialEntries: [(name: String, layer: Layer)] { joined.map { [("", $0)] } ?? namedLayers }

    /// The unit as one module (the projection shortcut, torchvision's `downsample`): a ``Sequential``
    /// of the conv and the norm, or the joined pair; children `0` and `1` when ``names`` are `0`, `1`.
    public var module: Layer { joined ?? Sequential(layers) }

    /// Whether the norm ends in its own nonlinearity (a ``NormalizationActivation`` built with it).
    public var appliesActivation: Bool { (norm as? NormalizationActivation)?.appliesActivation ?? false }

    /// A deep copy: the copy's norm reads the copy's conv.
    public func clone() -> ConvNorm { ConvNorm(conv: conv.clone(), norm: norm?.clone(), names: names) }

    /// Runs ``layers`` in order, each through `run` (a plain forward, or one passing an observer on).
    func forward(_ x: Tensor, running run: (Layer, Tensor) throws -> Tensor) throws -> Tensor {
        var h = x
        for layer in layers { h = try run(layer, h) }
        return h
    }

    /// The layers' backward in reverse order.
    func backward(_ dy: Tensor) -> Tensor {
        var g = dy
        for layer in layers.reversed() { g = layer.backward(g) }
        return g
    }
}
