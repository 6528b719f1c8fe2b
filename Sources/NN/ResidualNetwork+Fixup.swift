import TensorCore

extension ResidualNetwork {
    /// Fixup's residual network (Zhang, Dauphin & Ma 2019), as `FixupResNet` of the authors'
    /// `cifar/models/fixup_resnet_cifar.py`, its fixed sizes made arguments (theirs: 3 input
    /// channels, widths 16, 32, 64, stem 16, 10 classes):
    ///
    ///     conv1 (3x3, stem channels, no bias) -> bias1 -> relu
    ///     layer1 ... layerS of FixupBlocks (the first of every stage after the first with stride 2)
    ///     avgpool (global average, flattened) -> dropout (bnlab's `dropout`, not in the authors' code)
    ///     -> bias2 -> fc
    ///
    /// No normalization anywhere. Initialization, the authors' (their loop over `self.modules()`):
    /// - every block's conv1: `normal(0, std)`, `std = sqrt(2 / (O * 3 * 3)) * L^(-1/2)`, He's normal
    ///   init with fan_out (`weight.shape[0] * prod(shape[2:])`), scaled by `L^(-1/(2m-2))` with
    ///   `m = 2` layers per branch and `L` the number of blocks (`num_layers = sum(layers)`);
    /// - every block's conv2: 0; the fc weight and bias: 0;
    /// - scalar biases 0, scales 1; the stem conv keeps PyTorch's default init (their loop does not
    ///   touch it).
    /// The stem conv is the first weight layer and skips its input gradient. Widths must not shrink
    /// (the zero-padding shortcut cannot drop channels).
    public static func makeFixup(channels: Int, height: Int, width: Int, classes: Int, blocks: [Int], widths: [Int],
                                 stem: Int, activation: () -> Layer, dropout: Layer?,
                                 rng: inout RandomGenerator) throws -> Sequential {
        precondition(blocks.count == widths.count && !blocks.isEmpty && blocks.allSatisfy { $0 >= 1 },
                     "ResidualNetwork: one block count >= 1 per stage, got \(blocks) for widths \(widths)")
        guard zip([stem] + widths, widths).allSatisfy({ $0 <= $1 }) else {
            throw LayerError(layer: "Fixup", "widths must not shrink (the shortcut pads channels with zeros), got stem \(stem), \(widths)")
        }
        let depth = blocks.reduce(0, +)
        var entries: [(name: String, layer: Layer)] = [
            ("conv1", Conv2d(channels, stem, kernelSize: 3, padding: 1, bias: false, computesInputGradient: false, rng: &rng)),
            ("bias1", ScalarBias()), ("relu", activation()),
        ]
        var c = stem
        for (stage, (count, out)) in zip(blocks, widths).enumerated() {
            var stageBlocks: [Layer] = []
            for index in 0..<count {
                let stride = stage > 0 && index == 0 ? 2 : 1
                let conv1 = Conv2d(c, out, kernelSize: 3, stride: stride, padding: 1, bias: false, rng: &rng)
                let std = (2 / Double(out * 3 * 3)).squareRoot() / Double(depth).squareRoot()  // L^(-1/(2m-2)), m = 2
                for i in 0..<conv1.weight.value.count { conv1.weight.value.data[i] = Float(std) * rng.normal() }
                let conv2 = Conv2d(out, out, kernelSize: 3, padding: 1, bias: false, rng: &rng)
                conv2.weight.value.fill(0)
                stageBlocks.append(FixupBlock(conv1: conv1, activation1: activation(), conv2: conv2, activation2: activation()))
                c = out
            }
            entries.append(("layer\(stage + 1)", Sequential(stageBlocks)))
        }
        entries.append(("avgpool", GlobalAvgPool2d()))
        if let dropout { entries.append(("dropout", dropout)) }
        let fc = Linear(c, classes, rng: &rng)
        fc.weight.value.fill(0)
        fc.bias?.value.fill(0)
        entries += [("bias2", ScalarBias()), ("fc", fc)]
        return Sequential(named: entries)
    }
}
