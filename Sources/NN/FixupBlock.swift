import TensorCore

/// The residual block of Fixup (Zhang, Dauphin & Ma, ICLR 2019, "Fixup Initialization: Residual
/// Learning Without Normalization"), exactly as `FixupBasicBlock` of the authors'
/// `cifar/models/fixup_resnet_cifar.py` (github.com/hongyi-zhang/Fixup):
///
///     a   = x + bias1a
///     out = act(conv1(a) + bias1b)                 conv1: 3x3, stride s, padding 1, no bias
///     out = conv2(out + bias2a) * scale + bias2b   conv2: 3x3, padding 1, no bias
///     identity = shortcut(a) if the shape changes, else x
///     y = act(out + identity)
///
/// No normalization. `bias1a`, `bias1b`, `bias2a`, `bias2b` are scalars (init 0), `scale` a scalar
/// (init 1). The shortcut is the authors' parameter-free "option A", NOT a convolution:
/// `nn.AvgPool2d(1, stride=s)` (takes every s-th pixel: `a[:, :, ::s, ::s]`) applied to `x + bias1a`,
/// then `torch.cat((identity, torch.zeros_like(identity)), 1)`, zero channels appended. The authors'
/// CIFAR nets double the channels wherever they stride, so their zeros are `C` channels; here the
/// zeros fill `O - C` channels (`O >= C`), which is theirs when `O = 2C` and also covers a
/// channel change without stride (a stem narrower than the first stage: then `s = 1`, zeros only).
///
/// Legend: `x (N, C, H, W)`, `y (N, O, H', W')`, `H' = (H - 1) / s + 1`.
/// Backward, with `dsum = act'(dy)` and `h2 = conv2(...)`:
/// `dbias2b += sum(dsum)`, `dscale += sum(dsum * h2)`, `conv2 <- dsum * scale`, `dbias2a += sum(dc)`
/// (`dc` what conv2 returns), `dbias1b += sum(act'(dc))`, `da = conv1'(...) + shortcut'(dsum)`
/// (the shortcut's adjoint: `dsum`'s first `C` channels scattered back to every s-th pixel), or
/// `da = conv1'(...)` and `dx = da + dsum` for the identity; `dbias1a += sum(da)`, `dx = da`
/// with a shortcut. Scalar gradients are summed in Double.
/// Forward keeps `a`, `c = out + bias2a` inside the children (their inputs), `h2` (conv2's output)
/// and the sum (the last activation's input); the block owns those tensors.
///
/// Parameters in PyTorch's order (own first): `bias1a`, `bias1b`, `bias2a`, `scale`, `bias2b`, then
/// `conv1.weight`, `conv2.weight`.
public final class FixupBlock: Layer {
    public let conv1: Conv2d
    public let activation1: Layer
    public let conv2: Conv2d
    public let activation2: Layer
    public let bias1a: Parameter
    public let bias1b: Parameter
    public let bias2a: Parameter
    public let scale: Parameter
    public let bias2b: Parameter

    /// Whether the block changes the shape (stride or channels), so that its shortcut is the
    /// subsampling, zero-padding one.
    public var hasShortcut: Bool { conv1.stride != 1 || conv1.inChannels != conv2.outChannels }

    private var input: Tensor?
    private let shifted = Tensor()       // a = x + bias1a
    private let hiddenShifted = Tensor() // conv1(a) + bias1b
    private let branchShifted = Tensor() // act(...) + bias2a
    private var branchOutput: Tensor?    // h2 = conv2(...), conv2's tensor
    private let sum = Tensor()
    private let branchGradient = Tensor()
    private let inputGradient = Tensor()

    /// The block from its convolutions (no bias; conv2 `O -> O`, stride 1) and activations; scalars
    /// at the authors' init (biases 0, scale 1).
    public init(conv1: Conv2d, activation1: Layer, conv2: Conv2d, activation2: Layer) {
        precondition(conv1.bias == nil && conv2.bias == nil, "FixupBlock: its convolutions have no bias")
        precondition(conv1.outChannels == conv2.inChannels && conv2.inChannels == conv2.outChannels && conv2.stride == 1,
                     "FixupBlock: conv2 must map conv1's \(conv1.outChannels) channels to themselves at stride 1")
        precondition(conv2.outChannels >= conv1.inChannels,
                     "FixupBlock: the zero-padding shortcut cannot narrow \(conv1.inChannels) channels to \(conv2.outChannels)")
        precondition(conv1.computesInputGradient && conv2.computesInputGradient,
                     "FixupBlock: its convolutions must compute their input gradients")
        self.conv1 = conv1; self.activation1 = activation1; self.conv2 = conv2; self.activation2 = activation2
        func scalar(_ name: String, _ value: Float) -> Parameter {
            let p = Parameter(name: name, value: Tensor(Shape(1)))
            p.value.data[0] = value
            return p
        }
        bias1a = scalar("bias1a", 0); bias1b = scalar("bias1b", 0); bias2a = scalar("bias2a", 0)
        scale = scalar("scale", 1); bias2b = scalar("bias2b", 0)
    }

    public var name: String {
        "FixupBlock(\(conv1.inChannels)->\(conv2.outChannels), s\(conv1.stride)" + (hasShortcut ? ", zero-pad shortcut)" : ")")
    }

    public var ownParameters: [Parameter] { [bias1a, bias1b, bias2a, scale, bias2b] }
    public var namedChildren: [(name: String, layer: Layer)] {
        [("conv1", conv1), ("relu", activation1), ("conv2", conv2), ("relu2", activation2)]
    }
    public var children: [Layer] { namedChildren.map(\.layer) }
    public var parameters: [Parameter] { ownParameters + children.flatMap(\.parameters) }

    public func clone() -> FixupBlock {
        let copy = FixupBlock(conv1: conv1.clone(), activation1: activation1.clone(), conv2: conv2.clone(),
                              activation2: activation2.clone())
        for (mine, theirs) in zip(ownParameters, copy.ownParameters) { theirs.value.assign(mine.value) }
        return copy
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try forward(x, running: { layer, input in try layer.forward(input, mode: mode) })
    }

    public func forward(_ x: Tensor, mode: Mode, observingLeaves observe: (Layer, Tensor) throws -> Void) throws -> Tensor {
        try forward(x, running: { layer, input in try layer.forward(input, mode: mode, observingLeaves: observe) })
    }

    /// `out = t + b` for a scalar `b`.
    private static func add(_ t: Tensor, _ b: Float, into out: Tensor) {
        out.resize(to: t.shape)
        for i in 0..<t.count { out.data[i] = t.data[i] + b }
    }

    private func forward(_ x: Tensor, running run: (Layer, Tensor) throws -> Tensor) throws -> Tensor {
        guard x.shape.rank == 4, x.shape.channels == conv1.inChannels else {
            throw LayerError(layer: name, "expected input (N, \(conv1.inChannels), H, W), got \(x.shape)")
        }
        input = x
        Self.add(x, bias1a.value.data[0], into: shifted)
        Self.add(try run(conv1, shifted), bias1b.value.data[0], into: hiddenShifted)
        Self.add(try run(activation1, hiddenShifted), bias2a.value.data[0], into: branchShifted)
        let h2 = try run(conv2, branchShifted)
        branchOutput = h2
        sum.resize(to: h2.shape)
        let s = scale.value.data[0], b = bias2b.value.data[0]
        for i in 0..<h2.count { sum.data[i] = h2.data[i] * s + b }
        if hasShortcut {
            addShortcut(of: shifted, to: sum)
        } else {
            for i in 0..<sum.count { sum.data[i] += x.data[i] }
        }
        return try run(activation2, sum)
    }

    /// `out[:, :C] += a[:, :, ::s, ::s]` (the other `O - C` channels get the zeros).
    private func addShortcut(of a: Tensor, to out: Tensor) {
        let n = a.shape.batch, c = a.shape.channels, h = a.shape[2], w = a.shape[3]
        let o = out.shape.channels, oh = out.shape[2], ow = out.shape[3], s = conv1.stride
        for sample in 0..<n {
            for channel in 0..<c {
                let src = a.data + (sample * c + channel) * h * w, dst = out.data + (sample * o + channel) * oh * ow
                for i in 0..<oh { for j in 0..<ow { dst[i * ow + j] += src[i * s * w + j * s] } }
            }
        }
    }

    /// The shortcut's adjoint: `da[:, :, ::s, ::s] += dsum[:, :C]`.
    private func addShortcutGradient(_ dsum: Tensor, to da: Tensor) {
        let n = da.shape.batch, c = da.shape.channels, h = da.shape[2], w = da.shape[3]
        let o = dsum.shape.channels, oh = dsum.shape[2], ow = dsum.shape[3], s = conv1.stride
        for sample in 0..<n {
            for channel in 0..<c {
                let src = dsum.data + (sample * o + channel) * oh * ow, dst = da.data + (sample * c + channel) * h * w
                for i in 0..<oh { for j in 0..<ow { dst[i * s * w + j * s] += src[i * ow + j] } }
            }
        }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input, let h2 = branchOutput else { preconditionFailure("\(name): backward before forward") }
        let dsum = activation2.backward(dy)
        precondition(dsum.shape == h2.shape, "\(name): gradient \(dsum.shape) does not match output \(h2.shape)")
        var dScale = 0.0
        for i in 0..<dsum.count { dScale += Double(dsum.data[i]) * Double(h2.data[i]) }
        bias2b.gradient.data[0] += Float(ScalarBias.sum(dsum))
        scale.gradient.data[0] += Float(dScale)
        branchGradient.resize(to: dsum.shape)
        let s = scale.value.data[0]
        for i in 0..<dsum.count { branchGradient.data[i] = dsum.data[i] * s }
        let dc = conv2.backward(branchGradient)
        bias2a.gradient.data[0] += Float(ScalarBias.sum(dc))
        let dhidden = activation1.backward(dc)
        bias1b.gradient.data[0] += Float(ScalarBias.sum(dhidden))
        let da = conv1.backward(dhidden)
        inputGradient.resize(to: x.shape)
        inputGradient.data.update(from: da.data, count: da.count)
        if hasShortcut {
            addShortcutGradient(dsum, to: inputGradient)
            bias1a.gradient.data[0] += Float(ScalarBias.sum(inputGradient))
        } else {
            bias1a.gradient.data[0] += Float(ScalarBias.sum(inputGradient))
            for i in 0..<inputGradient.count { inputGradient.data[i] += dsum.data[i] }
        }
        return inputGradient
    }
}
