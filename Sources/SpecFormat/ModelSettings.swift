import NN

// The typed values of the model settings of a spec (`model` ... `eps`).

/// The network (`model`). Each entry of `channels` / `widths` is one block.
public enum ModelArchitecture: Hashable, Sendable {
    /// Per entry: conv KxK (padding K/2) -> norm -> ReLU -> maxpool 2;
    /// then flatten -> dropout -> linear to the classes. `kernel` is odd.
    case cnn(channels: [Int], kernel: Int)
    /// Per entry: linear -> norm -> ReLU -> dropout; then linear to the classes.
    case mlp(widths: [Int])

    /// The channel counts (cnn) or widths (mlp) that a normalization layer sees.
    public var featureCounts: [Int] {
        switch self {
        case let .cnn(channels, _): return channels
        case let .mlp(widths): return widths
        }
    }
}

/// The normalization layer after every conv / linear block (`norm`).
public enum NormKind: String, CaseIterable, Hashable, Sendable {
    /// BatchNorm (Ioffe & Szegedy 2015), GroupNorm (Wu & He 2018), LayerNorm (Ba et al. 2016),
    /// Batch Renormalization (Ioffe 2017).
    case batch, group, layer, batchrenorm
    /// Filter Response Normalization + TLU (Singh & Krishnan 2020), timm's `FilterResponseNormTlu2d`.
    case frn
    /// EvoNorm-S0 (Liu et al. 2020), timm's `EvoNorm2dS0`, over `groups` groups.
    case evonormS0 = "evonorm_s0"
    /// EvoNorm-B0 (Liu et al. 2020), timm's `EvoNorm2dB0`: a running variance, no running mean.
    case evonormB0 = "evonorm_b0"
    /// No normalization.
    case none

    /// Whether the layer ends in its own nonlinearity and so replaces the block's `norm -> ReLU`
    /// (FRN's TLU, EvoNorm's sigmoid or max), as the papers and timm use them: the model then has
    /// no ReLU after it.
    public var includesActivation: Bool { self == .frn || self == .evonormS0 || self == .evonormB0 }

    /// Whether the layer is defined for feature maps `(N, C, H, W)` only (timm's 2-d layers): an mlp
    /// cannot use it.
    public var needsFeatureMaps: Bool { includesActivation }

    /// Whether the layer splits the channels into `groups` groups (GroupNorm, EvoNorm-S0's group_std),
    /// and how the errors about `groups` name it.
    public var groupedLayerName: String? {
        switch self {
        case .group: return "GroupNorm"
        case .evonormS0: return "EvoNorm-S0"
        default: return nil
        }
    }

    /// Whether the layer keeps running statistics from batches (BatchNorm, Batch Renormalization and
    /// EvoNorm-B0's running variance): the layers whose train and eval modes differ.
    public var usesBatchStatistics: Bool { keepsRunningMeanAndVariance || self == .evonormB0 }

    /// Whether the layer is one of BatchNorm's kind (BatchNorm, Batch Renormalization): a running
    /// mean, variance and `num_batches_tracked`, which recalibration, the statistics probe and the
    /// `track_running_stats` and `ghost_batch_size` settings act on.
    public var keepsRunningMeanAndVariance: Bool { self == .batch || self == .batchrenorm }
}

extension ExperimentConfig {
    /// Whether the cell's norm layers keep BatchNorm's running mean and variance, the statistics that
    /// `adapt_prior` mixes with the batch's (BatchNorm with `track_running_stats`, Batch Renormalization).
    public var adaptsBatchNorm: Bool {
        norm == .batchrenorm || (norm == .batch && trackRunningStats)
    }
}

/// Batch Renormalization's clipping limits over training (`renorm`): the layer's own type, whose
/// ``BatchRenorm/Limits/limits(atStep:)`` is the one definition of the schedule.
public typealias RenormSchedule = BatchRenorm.Limits
