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
///
/// Which layer sits where, per kind of norm (every conv and its norm are a ``ConvNorm``):
/// - BatchNorm, GroupNorm, LayerNorm, Batch Renorm: as above (torchvision's `BasicBlock`).
/// - MABN (``MovingAverageBatchNorm``): the same places; every conv followed by one (stem, conv1,
///   conv2, the projection) is centred and has no bias, as the authors' ResNet
///   (megvii-model/MABN `cls/networks/resnet.py`) builds them all with its weight-centralized `Conv2d`.
/// - CBN (``CrossIterationBatchNorm``): the same places; each conv and its CBN are one
///   ``ConvCrossIterationBatchNorm`` (the authors' mmdet ResNet calls `self.norm1(out, self.conv1.weight)`
///   and `self.downsample[1](identity, self.downsample[0].weight)`), under the same state-dict names
///   (`conv1.weight`, `bn1.running_mean`, `downsample.0.weight`, `downsample.1.weight`, as theirs).
/// - FRN, EvoNorm-S0, EvoNorm-B0 (``NormalizationActivation``): as timm's post-activation residual
///   blocks place a norm-act layer (timm's `resnet.py` BasicBlock has no norm-act handling; its
///   `resnetv2.py` `Bottleneck` (`preact=False`) and `byobnet.py` `BasicBlock` do, alike): the norm
///   WITH its nonlinearity where torchvision has `norm -> relu` (the stem's `bn1`, a block's `bn1`:
///   no separate activation there); WITHOUT it (`apply_act=False`) at a block's `bn2` and the
///   projection's norm (`downsample.1`), before the addition; the model's activation stays after
///   the addition (timm's `act3` / `self.act`, its `act_layer`, ReLU by default). Without its
///   nonlinearity timm's FRN keeps its normalization, its EvoNorm-S0 and -B0 are an affine only
///   (their doc comments). The FRN paper's experiments use ResNetV2 (pre-activation), where every
///   norm is followed by an activation and FRN+TLU replaces each BN+ReLU; for a post-activation
///   block bnlab follows timm.
public enum ResidualNetwork {
    /// Where a norm sits.
    public struct NormSite: Sendable {
        /// The channels `C` of the conv output it normalizes.
        public let channels: Int
        /// `(1, C, H, W)`, the sample shape of its input (LayerNorm needs it).
        public let sampleShape: Shape
        /// timm's `apply_act` for a ``NormalizationActivation`` here: true where the model's activation
        /// would follow the norm (the stem, a block's `bn1`), false before the addition (a block's
        /// `bn2`, the projection's norm). Other norms do not read it.
        public let applyActivation: Bool
    }

    /// The network for inputs of `(channels, height, width)`. `norm(site)` makes the norm layer of a
    /// site, nil for none (the conv then has a bias); `activation()` makes each nonlinearity; `dropPath(i)`
    /// the stochastic depth of the net's block `i` (counted over all stages from 0, timm's `net_block_idx`),
    /// nil for none.
    public static func make(channels: Int, height: Int, width: Int, classes: Int, blocks: [Int], widths: [Int],
                            stem: Int, norm: (NormSite) throws -> Layer?, activation: () -> Layer,
                            dropout: Layer?, dropPath: (Int) throws -> DropPath? = { _ in nil },
                            rng: inout RandomGenerator) throws -> Sequential {
        precondition(blocks.count == widths.count && !blocks.isEmpty && blocks.allSatisfy { $0 >= 1 },
                     "ResidualNetwork: one block count >= 1 per stage, got \(blocks) for widths \(widths)")
        var h = height, w = width
        let stemUnit = ConvNorm.make(channels, stem, kernelSize: 3, padding: 1,
                                     norm: try norm(NormSite(channels: stem, sampleShape: Shape(1, stem, h, w), applyActivation: true)),
                                     names: ("conv1", "bn1"), computesInputGradient: false, rng: &rng)
        var entries = stemUnit.sequentialEntries
        if !stemUnit.appliesActivation { entries.append(("relu", activation())) }
        var c = stem, netBlockIndex = 0
        for (stage, (count, out)) in zip(blocks, widths).enumerated() {
            var stageBlocks: [Layer] = []
            for index in 0..<count {
                let stride = stage > 0 && index == 0 ? 2 : 1
                let sample = Shape(1, out, (h - 1) / stride + 1, (w - 1) / stride + 1)
                func site(_ applyActivation: Bool) throws -> Layer? {
                    try norm(NormSite(channels: out, sampleShape: sample, applyActivation: applyActivation))
                }
                let unit1 = ConvNorm.make(c, out, kernelSize: 3, stride: stride, padding: 1, norm: try site(true),
                                          names: ("conv1", "bn1"), rng: &rng)
                let unit2 = ConvNorm.make(out, out, kernelSize: 3, padding: 1, norm: try site(false),
                                          names: ("conv2", "bn2"), rng: &rng)
                var downsample: Layer?
                if stride != 1 || c != out {
                    downsample = ConvNorm.make(c, out, kernelSize: 1, stride: stride, norm: try site(false),
                                               names: ("0", "1"), rng: &rng).module
                }
                stageBlocks.append(ResidualBlock(unit1: unit1, activation1: unit1.appliesActivation ? nil : activation(),
                                                 unit2: unit2, downsample: downsample,
                                                 dropPath: try dropPath(netBlockIndex), activation2: activation()))
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
