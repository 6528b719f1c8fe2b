import TensorCore

/// How running statistics follow batch statistics, in PyTorch's convention
/// (the OPPOSITE of Keras/TensorFlow's, where 0.99 weights the old value):
///
/// - `.exponential(m)`: `running = (1 - m) * running + m * batch` (PyTorch `momentum=m`, default 0.1);
/// - `.cumulative`: PyTorch `momentum=None`, a true average over the batches seen:
///   `running = (1 - 1/t) * running + (1/t) * batch` with `t = num_batches_tracked` after the increment.
public enum BNMomentum: Equatable, Hashable, Sendable, CustomStringConvertible {
    case exponential(Float)
    case cumulative

    /// The weight of the new batch at the `t`-th tracked batch (t >= 1).
    public func factor(batchesTracked t: Int) -> Float {
        switch self {
        case .exponential(let m): return m
        case .cumulative: return 1 / Float(t)
        }
    }

    public var description: String {
        switch self {
        case .exponential(let m): return "\(m)"
        case .cumulative: return "cumulative"
        }
    }
}

/// The running statistics of a normalization layer, as a value: a snapshot
/// that can be restored, compared or written out.
public struct RunningStatistics: Equatable, Sendable {
    public var mean: [Float]
    /// Unbiased (n/(n-1)) running variance, as PyTorch stores it.
    public var variance: [Float]
    public var batchesTracked: Int

    public init(mean: [Float], variance: [Float], batchesTracked: Int) {
        self.mean = mean
        self.variance = variance
        self.batchesTracked = batchesTracked
    }
}

/// The statistics of the last batch (the last ghost batch with Ghost BatchNorm) that a layer
/// normalized with, per channel, rounded to Float from the Double moments
/// (``BatchNormKernels/moments``) as PyTorch's Float32 tensors hold them.
public struct BatchStatistics: Equatable, Sendable {
    /// `mean = sum x / m`.
    public var mean: [Float]
    /// BIASED `var = sum (x - mean)^2 / m`, the one the layer normalizes with.
    public var variance: [Float]
    /// UNBIASED `var * m / (m - 1)` (computed in Double, then rounded), the one the running
    /// update takes.
    public var unbiasedVariance: [Float]
    /// `m = N*H*W`, the values per channel.
    public var valuesPerChannel: Int

    public init(mean: [Float], variance: [Float], unbiasedVariance: [Float], valuesPerChannel: Int) {
        self.mean = mean
        self.variance = variance
        self.unbiasedVariance = unbiasedVariance
        self.valuesPerChannel = valuesPerChannel
    }
}

/// A layer that keeps running mean/variance (BatchNorm, Batch Renormalization): the harness
/// recalibrates, probes and measures them through this protocol. The settings are fixed at
/// construction; the running statistics change only by a train-mode forward or explicitly,
/// through ``restoreRunningStatistics(_:)`` (recalibration writes its estimate with it).
///
/// The state and the passes live in the layer's own ``BatchNormCore`` (opaque outside NN, so
/// only NN's layers conform); this extension reads everything else from it.
public protocol RunningStatisticsLayer: Layer {
    /// The shared implementation that owns the parameters and running statistics.
    var core: BatchNormCore { get }
    var trackRunningStats: Bool { get }
    /// Statistics over virtual sub-batches of this many samples (Ghost BatchNorm); nil = the whole batch.
    var ghostBatchSize: Int? { get }
    /// Whether the running statistics are this layer's own, not an earlier layer's that it shares
    /// (the later sites of a shared module, ``SharedBatchNormSite``): the state dict lists them once.
    var listsRunningStatistics: Bool { get }
    /// Sets the running statistics (and `num_batches_tracked`) to `s`, taken from a layer with
    /// the same number of features (every copy of them: all ranks of a ``DataParallelBatchNorm``).
    func restoreRunningStatistics(_ s: RunningStatistics)
}

public extension RunningStatisticsLayer {
    var listsRunningStatistics: Bool { true }
    /// The identity of the running statistics: equal for the sites of one shared module.
    package var statisticsIdentity: ObjectIdentifier { ObjectIdentifier(core.state) }
    var numFeatures: Int { core.features }
    var eps: Float { core.eps }
    /// The running update's momentum (PyTorch's meaning, see ``BNMomentum``).
    var momentum: BNMomentum { core.momentum }
    var weight: Parameter { core.weight }
    var bias: Parameter { core.bias }
    var runningMean: Tensor { core.runningMean }
    /// Unbiased (n/(n-1)), as PyTorch stores it.
    var runningVar: Tensor { core.runningVar }
    var numBatchesTracked: Int { core.batchesTracked }
    /// The batch statistics of the last batch-statistics forward; nil before any.
    var lastBatchStatistics: BatchStatistics? { core.lastBatchStatistics }

    /// A copy of the running statistics.
    func snapshotRunningStatistics() -> RunningStatistics { core.runningStatistics }

    /// Sets the running statistics (and `num_batches_tracked`) to `s`, taken from a layer with
    /// the same number of features.
    func restoreRunningStatistics(_ s: RunningStatistics) { core.restore(s, layer: name) }

    /// PyTorch's `reset_running_stats()`: mean 0, variance 1, `num_batches_tracked` 0.
    func resetRunningStatistics() {
        restoreRunningStatistics(RunningStatistics(mean: Array(repeating: 0, count: numFeatures),
                                                   variance: Array(repeating: 1, count: numFeatures),
                                                   batchesTracked: 0))
    }
}

/// A normalization that carries statistics across training iterations and keeps running
/// statistics that are not ``RunningStatisticsLayer``'s BatchNorm pair (Moving Average BatchNorm;
/// Cross-Iteration BatchNorm). Recalibration refuses a model with one (its authors' code defines no
/// re-estimate) and the statistics probe does not measure it.
public protocol CrossIterationNormalization: Layer {}

/// The error PyTorch raises for batch statistics over a single value per channel.
func singleValueError(layer: String, shape: Shape) -> LayerError {
    LayerError(layer: layer, "Expected more than 1 value per channel when training, got input size \(shape)")
}

/// The refusal of ``NormalizationPhase/trainWithoutUpdate`` by a layer whose train passes keep buffers of
/// past statistics (MABN, CBN): "batch statistics, nothing updated" has no defined meaning there.
func trainWithoutUpdateError(layer: String) -> LayerError {
    LayerError(layer: layer, "train-without-update (a frozen layer normalizing with batch statistics) is not defined:"
               + " its train passes keep buffers of past batches' statistics")
}
