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

/// A layer that keeps running mean/variance (BatchNorm, Batch Renormalization):
/// the harness recalibrates, probes and measures them through this protocol.
public protocol RunningStatisticsLayer: Layer {
    var numFeatures: Int { get }
    var runningMean: Tensor { get }
    var runningVar: Tensor { get }
    var numBatchesTracked: Int { get set }
    var momentum: BNMomentum { get set }
    var trackRunningStats: Bool { get }
    /// Values per channel in the last batch-statistics forward (`N*H*W`), 0 before any.
    var lastValuesPerChannel: Int { get }
    /// Statistics over virtual sub-batches of this many samples (Ghost BatchNorm); nil = the whole batch.
    var ghostBatchSize: Int? { get set }
}

public extension RunningStatisticsLayer {
    /// A copy of the running statistics.
    func snapshotRunningStatistics() -> RunningStatistics {
        RunningStatistics(mean: runningMean.array, variance: runningVar.array, batchesTracked: numBatchesTracked)
    }

    /// Puts back a snapshot taken from a layer with the same number of features.
    func restoreRunningStatistics(_ s: RunningStatistics) {
        precondition(s.mean.count == numFeatures && s.variance.count == numFeatures,
                     "\(name): snapshot has \(s.mean.count) features, layer has \(numFeatures)")
        for c in 0..<numFeatures {
            runningMean.data[c] = s.mean[c]
            runningVar.data[c] = s.variance[c]
        }
        numBatchesTracked = s.batchesTracked
    }

    /// PyTorch's `reset_running_stats()`: mean 0, variance 1, `num_batches_tracked` 0.
    func resetRunningStatistics() {
        runningMean.fill(0)
        runningVar.fill(1)
        numBatchesTracked = 0
    }
}

/// The error PyTorch raises for batch statistics over a single value per channel.
func singleValueError(layer: String, shape: Shape) -> LayerError {
    LayerError(layer: layer, "Expected more than 1 value per channel when training, got input size \(shape)")
}
