import TensorCore

/// The residual network of He, Zhang, Ren & Sun 2016's CIFAR family (section 4.2 of "Deep Residual
/// Learning for Image Recognition"), with torchvision's block (``ResidualBlock``) and names:
///
///     conv1 (3x3, stem channels, padding 1) -> bn1 -> relu
///     layer1 ... layerS: blocks[i] basic blocks of channels[i] channels; the first block of
///         every stage after the first has stride 2; a projection shortcut (conv1x1 stride s + norm)
///         wherever a block changes the shape (stride 2, or channels differing from its input's)
///     avgpool (global average, flattened) -> dropout (if any) -> fc (linear to the classes)
///
/// `blocks = [1, 1, 1]`, `channels = [16, 32, 64]` is ResNet-8 (2 + 6 layers); `[3, 3, 3]` ResNet-20.
/// Convolutions have no bias when a norm follows (torchvision's and the CIFAR ResNets'
/// `bias=False`), a bias otherwise. Initialization is each layer's PyTorch default (kaiming_uniform
/// with a = sqrt(5) for conv and linear, ``Initialization``), drawn in module order. The stem conv is
/// the first weight layer and skips its input gradient.
public enum ResidualNetwork {
    /// The network for inputs of `(channels, height, width)`. `norm(C, sampleShape)` makes the norm
    /// layer of a site with `C` channels and sample shape `(1, C, H, W)` (LayerNorm needs it), nil for
    /// none; `activation()` makes each nonlinearity; `dropPath(i)` the stochastic depth of the net's
    /// block `i` (counted over all stages from 0, timm's `net_block_idx`), nil for none.
    public static func make(channels: Int, height: Int, width: Int, classes: Int, blocks: [Int], widths: [Int],
                            stem: Int, norm: (Int, Shape) throws -> Layer?, activation: () -> Layer,
                            dropout: Layer?, dropPath: (Int) throws -> DropPath? = { _ in nil },
                            rng: inout RandomGenerator) throws -> Sequential {
        precondition(blocks.count == widths.count && !blocks.isEmpty && blocks.allSatisfy { $0 >= 1 },
                     "ResidualNetwork: one block count >= 1 per stage, got \(blocks) for widths \(widths)")
        var h = height, w = width
        let stemNorm = try norm(stem, Shape(1, stem, h, w))
        let stemConv = Conv2d(channels, stem, kernelSize: 3, padding: 1, bias: stemNorm == nil,
                              computesInputGradient: false, rng: &rng)
        var entries: [(name: String, layer: Layer)] = [("conv1", stemConv)]
        if let stemNorm { entries.append(("bn1", stemNorm)) }
        entries.append(("relu", activation()))
        var c = stem, netBlockIndex = 0
        for (stage, (count, out)) in zip(blocks, widths).enumerated() {
            var stageBlocks: [Layer] = []
            for index in 0..<count {
                let stride = stage > 0 && index == 0 ? 2 : 1
                let sample = Shape(1, out, (h - 1) / stride + 1, (w - 1) / stride + 1)
                let norm1 = try norm(out, sample)
                let conv1 = Conv2d(c, out, kernelSize: 3, stride: stride, padding: 1, bias: norm1 == nil, rng: &rng)
                let norm2 = try norm(out, sample)
                let conv2 = Conv2d(out, out, kernelSize: 3, padding: 1, bias: norm2 == nil, rng: &rng)
                var downsample: Sequential?
                if stride != 1 || c != out {
                    let projectionNorm = try norm(out, sample)
                    let projection = Conv2d(c, out, kernelSize: 1, stride: stride, bias: projectionNorm == nil, rng: &rng)
                    downsample = Sequential([projection] + [projectionNorm].compactMap { $0 })
                }
                stageBlocks.append(ResidualBlock(conv1: conv1, norm1: norm1, activation1: activation(), conv2: conv2,
                                                 norm2: norm2, downsample: downsample, dropPath: try dropPath(netBlockIndex),
                                                 activation2: activation()))
                netBlockIndex += 1
                c = out; h = sample[2]; w = sample[3]
            }
            entries.append(("layer\(stage + 1)", Sequential(stageBlocks)))
        }
        entries.append(("avgpool", GlobalAvgPool2d()))
        if let dropout { entries.append(("dropout", dropout)) }
        entries.append(("fc", Linear(c, classes, rng: &rng)))
        return Sequential(named: entries)
    }
}
