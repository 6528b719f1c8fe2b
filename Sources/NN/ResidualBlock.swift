import TensorCore

/// The basic block of He, Zhang, Ren & Sun 2016 ("Deep Residual Learning for Image Recognition"),
/// as torchvision's `BasicBlock` (torchvision/models/resnet.py) writes it:
///
///     out = act(norm1(conv1(x)))          conv1: 3x3, stride s, padding 1
///     out = norm2(conv2(out))             conv2: 3x3, stride 1, padding 1
///     out = drop_path(out)                if any: stochastic depth (``DropPath``), timm's BasicBlock
///     identity = downsample(x) or x       downsample: conv 1x1 stride s, then a norm
///     y = act(out + identity)
///
/// Legend: `x (N, C, H, W)`, `y (N, O, H', W')`, `H' = (H - 1) / s + 1`. The shortcut is the
/// identity when the shape is kept (`s = 1`, `C = O`), else a projection (torchvision's
/// `downsample`, "option B" of the paper). The norms may be absent (then the convs have a bias);
/// any layer may stand in them (BatchNorm, GroupNorm, LayerNorm of the site's sample shape, ...).
/// Each conv and its norm are a ``ConvNorm``: two layers, or one ``ConvCrossIterationBatchNorm``
/// when the norm is a Cross-Iteration BatchNorm (which reads its conv's weight). When `norm1` is a
/// ``NormalizationActivation`` built with its nonlinearity (FRN's TLU, EvoNorm), it takes the place
/// of `norm1 -> act` and the block has no first activation (timm's post-activation blocks with a
/// norm-act layer: ``ResidualNetwork``); the activation after the addition stays.
///
/// Backward: `dsum = act'(dy)` flows into both branches (the main one through drop_path's mask
/// first), and the addition's backward is the sum of the two branches' input gradients:
/// `dx = dx_main + (downsample ? downsample'(dsum) : dsum)`.
/// Forward keeps, inside the children, what each needs; the block keeps the sum for the last
/// activation (whose backward reads its input) and a tensor for `dx`.
///
/// Children, in PyTorch's module order (``namedChildren``, the state-dict names): `conv1`, `bn1`,
/// `relu` (absent after a norm-act `bn1`), `conv2`, `bn2`, `downsample` (`0` the conv, `1` the norm),
/// `relu2` (torchvision applies its one `relu` module twice; each application here has its own layer,
/// because a layer keeps its input for backward). ``children`` are the layers that run, a joined
/// conv-and-CBN pair as one (whose own children are the conv and the norm).
public final class ResidualBlock: Layer {
    public let unit1: ConvNorm
    /// The activation after `norm1`; nil when `norm1` brings its own.
    public let activation1: Layer?
    public let unit2: ConvNorm
    /// The projection shortcut (`downsample`), nil for the identity.
    public let downsample: Layer?
    /// Stochastic depth on the residual branch before the addition, nil for none (timm: rate 0).
    public let dropPath: DropPath?
    public let activation2: Layer

    private let sum = Tensor()
    private let inputGradient = Tensor()
    /// The threads of the last forward (`mode.threads`), for the addition and its backward.
    private var threads = ComputeThreads.serial

    /// The block from its parts; `downsample`'s output must have the main branch's shape (it is
    /// checked in forward). `activation1` must be nil exactly when `unit1`'s norm applies its own.
    public init(unit1: ConvNorm, activation1: Layer?, unit2: ConvNorm, downsample: Layer?, dropPath: DropPath? = nil,
                activation2: Layer) {
        let conv1 = unit1.conv, conv2 = unit2.conv
        precondition(conv1.outChannels == conv2.inChannels,
                     "ResidualBlock: conv1 gives \(conv1.outChannels) channels, conv2 takes \(conv2.inChannels)")
        precondition(downsample != nil || (conv1.stride == 1 && conv1.inChannels == conv2.outChannels),
                     "ResidualBlock: a shape-changing block needs a projection shortcut")
        precondition(conv1.computesInputGradient && conv2.computesInputGradient,
                     "ResidualBlock: its convolutions must compute their input gradients")
        precondition((activation1 == nil) == unit1.appliesActivation,
                     "ResidualBlock: a first activation is needed unless bn1 applies its own, and refused if it does")
        precondition(!unit2.appliesActivation, "ResidualBlock: bn2 must not apply an activation before the addition")
        self.unit1 = unit1; self.activation1 = activation1; self.unit2 = unit2
        self.downsample = downsample; self.dropPath = dropPath; self.activation2 = activation2
    }

    /// torchvision's block from separate layers (`conv1`, `conv2` named as torchvision names them).
    public convenience init(conv1: Conv2d, norm1: Layer?, activation1: Layer?, conv2: Conv2d, norm2: Layer?,
                            downsample: Layer?, dropPath: DropPath? = nil, activation2: Layer) {
        self.init(unit1: ConvNorm(conv: conv1, norm: norm1, names: ("conv1", "bn1")), activation1: activation1,
                  unit2: ConvNorm(conv: conv2, norm: norm2, names: ("conv2", "bn2")), downsample: downsample,
                  dropPath: dropPath, activation2: activation2)
    }

    public var conv1: Conv2d { unit1.conv }
    public var norm1: Layer? { unit1.norm }
    public var conv2: Conv2d { unit2.conv }
    public var norm2: Layer? { unit2.norm }

    public var name: String {
        "ResidualBlock(\(conv1.inChannels)->\(conv2.outChannels), s\(conv1.stride)"
            + (downsample == nil ? ")" : ", projection)")
    }

    public var namedChildren: [(name: String, layer: Layer)] {
        var entries = unit1.namedLayers
        if let activation1 { entries.append(("relu", activation1)) }
        entries += unit2.namedLayers
        if let downsample { entries.append(("downsample", downsample)) }
        if let dropPath { entries.append(("drop_path", dropPath)) }
        return entries + [("relu2", activation2)]
    }

    public var children: [Layer] {
        unit1.layers + [activation1].compactMap { $0 } + unit2.layers + [downsample].compactMap { $0 }
            + [dropPath].compactMap { $0 } + [activation2]
    }
    public var parameters: [Parameter] { children.flatMap(\.parameters) }

    public func clone() -> ResidualBlock {
        ResidualBlock(unit1: unit1.clone(), activation1: activation1?.clone(), unit2: unit2.clone(),
                      downsample: downsample?.clone(), dropPath: dropPath?.clone(), activation2: activation2.clone())
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        threads = mode.threads
        return try forward(x, running: { layer, input in try layer.forward(input, mode: mode) })
    }

    public func forward(_ x: Tensor, mode: Mode, observingLeaves observe: (Layer, Tensor) throws -> Void) throws -> Tensor {
        threads = mode.threads
        return try forward(x, running: { layer, input in try layer.forward(input, mode: mode, observingLeaves: observe) })
    }

    /// `out = a + b` element-wise over blocks of values on ``threads`` (the addition and its backward).
    private func add(_ a: Tensor, _ b: Tensor, into out: Tensor) {
        out.resize(to: a.shape)
        let (a, b, o) = (UnsafePointer(a.data), UnsafePointer(b.data), out.data)
        threads.forEachBlock(out.count, work: out.count) { block in
            for i in block { o[i] = a[i] + b[i] }
        }
    }

    /// The forward, each child run by `run` (plain, or passing an observer on).
    private func forward(_ x: Tensor, running run: (Layer, Tensor) throws -> Tensor) throws -> Tensor {
        var h = try unit1.forward(x, running: run)
        if let activation1 { h = try run(activation1, h) }
        h = try unit2.forward(h, running: run)
        if let dropPath { h = try run(dropPath, h) }
        let identity = try downsample.map { try run($0, x) } ?? x
        guard identity.shape == h.shape else {
            throw LayerError(layer: name, "shortcut gives \(identity.shape), the residual branch \(h.shape)")
        }
        add(h, identity, into: sum)
        return try run(activation2, sum)
    }

    /// `dsum = act'(dy)`; main branch back through drop_path, bn2, conv2, act, bn1, conv1; shortcut through
    /// `downsample` (or the identity); `dx = dx_main + dx_shortcut`.
    public func backward(_ dy: Tensor) -> Tensor {
        let dsum = activation2.backward(dy)
        var g = dsum
        if let dropPath { g = dropPath.backward(g) }
        g = unit2.backward(g)
        if let activation1 { g = activation1.backward(g) }
        let dxMain = unit1.backward(g)
        let dxShortcut = downsample.map { $0.backward(dsum) } ?? dsum
        precondition(dxMain.shape == dxShortcut.shape, "\(name): branch gradients \(dxMain.shape) and \(dxShortcut.shape)")
        add(dxMain, dxShortcut, into: inputGradient)
        return inputGradient
    }
}
