import NN

// The typed values of the model settings of a spec (`model` ... `eps`).

/// The network (`model`). Each entry of `channels` / `widths` is one block.
public enum ModelArchitecture: Hashable, Sendable {
    /// Per entry: conv KxK (padding K/2) -> norm -> ReLU -> maxpool 2;
    /// then flatten -> dropout -> linear to the classes. `kernel` is odd.
    case cnn(channels: [Int], kernel: Int)
    /// Per entry: linear -> norm -> ReLU -> dropout; then linear to the classes.
    case mlp(widths: [Int])
    /// The residual network of He et al. 2016's CIFAR family (ResNet-8 is `blocks [1, 1, 1]`):
    /// stem conv3x3 (`stem` channels) -> norm -> ReLU; per stage `i`, `blocks[i]` basic blocks
    /// (``ResidualBlock``) of `channels[i]` channels, the first of every stage after the first with
    /// stride 2; a projection shortcut where the shape changes; global average pooling ->
    /// dropout -> linear to the classes. `stem` is `channels[0]` unless the spec sets it.
    case resnet(blocks: [Int], channels: [Int], stem: Int)

    /// `cnn`, `mlp` or `resnet`.
    public var kindName: String {
        switch self {
        case .cnn: return "cnn"
        case .mlp: return "mlp"
        case .resnet: return "resnet"
        }
    }

    /// The two blocks that `shared_bn` makes share one BatchNorm module: the first block whose width
    /// (cnn channel count, mlp width) equals an earlier block's, and that earlier block (0-based; e.g.
    /// blocks 0 and 1 of `cnn channels=16,16,32`, blocks 0 and 2 of `16,32,16`); nil when every width differs.
    public var sharedNormalizationBlocks: (first: Int, second: Int)? {
        let counts = featureCounts
        for second in counts.indices {
            if let first = counts[..<second].firstIndex(of: counts[second]) { return (first, second) }
        }
        return nil
    }

    /// Whether the model has residual additions (`resnet`), after each of which its activation stays
    /// whatever the norm.
    public var isResidual: Bool { if case .resnet = self { return true } else { return false } }

    /// The channel counts (cnn, resnet with its stem) or widths (mlp) that a normalization layer sees.
    public var featureCounts: [Int] {
        switch self {
        case let .cnn(channels, _): return channels
        case let .mlp(widths): return widths
        case let .resnet(_, channels, stem): return [stem] + channels
        }
    }
}

/// The nonlinearity after every normalization (`activation`): PyTorch's `nn.ReLU` or
/// `nn.LeakyReLU(negative_slope)`.
public enum Activation: Hashable, Sendable {
    /// `y = max(x, 0)`.
    case relu
    /// `y = x > 0 ? x : slope * x`, PyTorch's default slope 0.01.
    case leakyReLU(slope: Float)

    /// A fresh layer.
    public func makeLayer() -> Layer {
        switch self {
        case .relu: return ReLU()
        case .leakyReLU(let slope): return LeakyReLU(negativeSlope: slope)
        }
    }
}

/// The normalization layer after every conv / linear block (`norm`).
public enum NormKind: String, CaseIterable, Hashable, Sendable {
    /// BatchNorm (Ioffe & Szegedy 2015), GroupNorm (Wu & He 2018), LayerNorm (Ba et al. 2016),
    /// Batch Renormalization (Ioffe 2017), Moving Average BatchNorm (Yan et al. 2020, after a
    /// centred conv), Cross-Iteration BatchNorm (Yao et al. 2021).
    case batch, group, layer, batchrenorm, mabn, cbn
    /// Filter Response Normalization + TLU (Singh & Krishnan 2020), timm's `FilterResponseNormTlu2d`.
    case frn
    /// EvoNorm-S0 (Liu et al. 2020), timm's `EvoNorm2dS0`, over `groups` groups.
    case evonormS0 = "evonorm_s0"
    /// EvoNorm-B0 (Liu et al. 2020), timm's `EvoNorm2dB0`: a running variance, no running mean.
    case evonormB0 = "evonorm_b0"
    /// No normalization, or Fixup (Zhang, Dauphin & Ma 2019: no normalization, the authors'
    /// initialization, scalar biases and scales; `model resnet` only,
    /// ``ResidualNetwork/makeFixup(channels:height:width:classes:blocks:widths:stem:activation:dropout:rng:)``).
    case none, fixup

    /// Whether the layer ends in its own nonlinearity and so replaces the block's `norm -> ReLU`
    /// (FRN's TLU, EvoNorm's sigmoid or max), as the papers and timm use them: the model then has
    /// no ReLU after it. In the residual network it does so where torchvision has `norm -> ReLU`; the
    /// norms before the addition are built without their nonlinearity (timm's `apply_act=False`) and
    /// the activation after the addition stays (``ResidualNetwork``).
    public var includesActivation: Bool { self == .frn || self == .evonormS0 || self == .evonormB0 }

    /// Why the layer is defined for conv feature maps `(N, C, H, W)` only, so that an mlp cannot use it (the
    /// end of the error that refuses it); nil for the norms an mlp can use.
    public var featureMapsOnly: String? {
        switch self {
        case .frn, .evonormS0, .evonormB0:
            return "is defined for conv feature maps (N, C, H, W) only (timm's 2-d layer), not for model mlp's (N, C) features"
        case .mabn:
            return "needs model cnn or resnet: MABN.py defines MABN2d and its centred conv (CenConv2d) for (N, C, H, W)"
                + " conv features only"
        case .cbn:
            return "needs model cnn or resnet: CBN.py's CBatchNorm2d compensates its statistics through the preceding"
                + " conv's weight"
        case .batch, .group, .layer, .batchrenorm, .none, .fixup:
            return nil
        }
    }

    /// Whether the layer splits the channels into `groups` groups (GroupNorm, EvoNorm-S0's group_std),
    /// and how the errors about `groups` name it.
    public var groupedLayerName: String? {
        switch self {
        case .group: return "GroupNorm"
        case .evonormS0: return "EvoNorm-S0"
        default: return nil
        }
    }

    /// Whether the layer normalizes with statistics of the training batches and keeps running
    /// statistics for eval mode (BatchNorm, Batch Renormalization, EvoNorm-B0's running variance, MABN,
    /// CBN): the layers whose train and eval modes differ.
    public var usesBatchStatistics: Bool {
        keepsRunningMeanAndVariance || self == .evonormB0 || self == .mabn || self == .cbn
    }

    /// Whether the layer is one of BatchNorm's kind (BatchNorm, Batch Renormalization): a running
    /// mean, variance and `num_batches_tracked`, which recalibration, the statistics probe and
    /// `frozen_bn_epochs` act on.
    public var keepsRunningMeanAndVariance: Bool { self == .batch || self == .batchrenorm }
}

extension ExperimentConfig {
    /// Whether the cell's norm layers keep BatchNorm's running mean and variance, the statistics that
    /// `adapt_prior` mixes with the batch's (BatchNorm with `track_running_stats`, Batch Renormalization).
    public var adaptsBatchNorm: Bool {
        norm == .batchrenorm || (norm == .batch && trackRunningStats)
    }

    /// Whether the cell's norm layers keep running statistics that train mode updates and eval mode uses
    /// (BatchNorm with `track_running_stats`, Batch Renorm, EvoNorm-B0, MABN, CBN): where `freeze` acts.
    public var hasRunningStatistics: Bool {
        norm.usesBatchStatistics && (norm != .batch || trackRunningStats)
    }
}

/// Where Dropout puts its factor `1 - p` (`dropout_convention`): the layer's own type.
public typealias DropoutConvention = Dropout.Convention

/// Cross-Iteration BatchNorm's settings (`cbn`): the layer's own type, CBN.py's arguments.
public typealias CBNSettings = CrossIterationBatchNorm.Settings

/// Moving Average BatchNorm's settings (`mabn`), MABN.py's `MABN2d` arguments.
public struct MABNSettings: Hashable, Sendable {
    /// `B`, the iterations in the moving averages of E[x^2] and of the gradient statistic (the
    /// code's `real_B // B`; the authors' detection config has B = 2, real_B = 32: 16).
    public var bufferSize: Int
    /// The code's `warmup_iters`: train passes `t < warmup` normalize with their own batch.
    public var warmupIterations: Int

    public init(bufferSize: Int = 16, warmupIterations: Int = 100) {
        self.bufferSize = bufferSize; self.warmupIterations = warmupIterations
    }
}

/// Batch Renormalization's clipping limits over training (`renorm`): the layer's own type, whose
/// ``BatchRenorm/Limits/limits(atStep:)`` is the one definition of the schedule.
public typealias RenormSchedule = BatchRenorm.Limits

/// Which framework's meaning the spec's `momentum` value has (`momentum_convention`).
///
/// - `pytorch`: `running = (1 - momentum) * running + momentum * batch` (momentum weights the NEW batch;
///   PyTorch's default 0.1);
/// - `keras`: `running = momentum * running + (1 - momentum) * batch` (momentum weights the OLD statistics;
///   `keras.layers.BatchNormalization`'s default 0.99), converted to PyTorch's `1 - momentum` when the
///   cell is built (pytorch/examples#289 is the bug of pasting one into the other).
/// Only the momentum converts: Keras's eps default (1e-3) is not PyTorch's (1e-5), and `eps` stays its own key.
public enum MomentumConvention: String, CaseIterable, Hashable, Sendable {
    case pytorch, keras

    /// The momentum in PyTorch's convention (``BNMomentum``) of a value `written` in this one. The Keras
    /// conversion `1 - m` is taken on the value as written (the shortest decimal that reads back to the
    /// Float, e.g. `0.99`), in Double, then rounded once to Float: `keras 0.99` is then the very Float that
    /// `pytorch 0.01` parses to (1 - Float(0.99) in Float would be 0.00999999046, not Float(0.01)).
    public func pytorchMomentum(_ written: BNMomentum) -> BNMomentum {
        switch (self, written) {
        case (.pytorch, _), (.keras, .cumulative): return written
        case let (.keras, .exponential(m)):
            let decimal = Double(SpecNumber.format(m)) ?? Double(m)
            return .exponential(Float(1 - decimal))
        }
    }
}

/// Whether two blocks of the same width share one BatchNorm module (`shared_bn`; the blocks are
/// ``ModelArchitecture/sharedNormalizationBlocks``), pytorch/pytorch#1738.
public enum SharedBatchNormSetting: String, CaseIterable, Hashable, Sendable {
    /// A module per block (today's models).
    case off
    /// One module, parameters and running statistics, called at both blocks.
    case shared
    /// One affine (weight, bias), running statistics per block: detectron2's `CycleBatchNormList`.
    case sharedAffine = "shared-affine"

    /// What the two sites share, nil for `off`.
    public var sharing: SharedBatchNormSite.Sharing? {
        switch self {
        case .off: return nil
        case .shared: return .module
        case .sharedAffine: return .affine
        }
    }
}

/// Where a data-parallel model's BatchNorm running statistics come from (`device_bn`): the layer's own
/// type, ``DataParallelBatchNorm/Policy``, whose summary has the definitions.
public typealias DeviceBatchNormPolicy = DataParallelBatchNorm.Policy
