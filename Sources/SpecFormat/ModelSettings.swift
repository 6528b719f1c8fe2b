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
    /// Batch Renormalization (Ioffe 2017), Moving Average BatchNorm (Yan et al. 2020, after a
    /// centred conv), Cross-Iteration BatchNorm (Yao et al. 2021), or no normalization.
    case batch, group, layer, batchrenorm, mabn, cbn, none

    /// Whether the layer normalizes with statistics of the training batches and keeps running
    /// statistics for eval mode (BatchNorm, Batch Renormalization, MABN, CBN): the layers whose train
    /// and eval modes differ.
    public var usesBatchStatistics: Bool { isBatchNorm || self == .mabn || self == .cbn }

    /// BatchNorm and Batch Renormalization: the layers that `momentum`, `track_running_stats`,
    /// `ghost_batch_size`, `frozen_bn_epochs` and recalibration act on.
    public var isBatchNorm: Bool { self == .batch || self == .batchrenorm }
}

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
