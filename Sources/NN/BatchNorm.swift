import TensorCore

/// Batch Normalization (Ioffe & Szegedy 2015) with PyTorch's semantics, over
/// features `(N, C)` (`nn.BatchNorm1d`) or channels `(N, C, H, W)` (`nn.BatchNorm2d`).
///
/// Legend: `m = N*H*W` values per channel (per ghost batch with Ghost BN).
/// - Batch statistics (mode.normalization == .train or .trainWithoutUpdate, or `trackRunningStats == false`):
///   `mean = sum x / m`, `var = sum (x - mean)^2 / m` (BIASED), `invStd = 1 / sqrt(var + eps)`,
///   `y = (x - mean) * invStd * weight + bias`.
/// - Running update (mode.normalization == .train and `trackRunningStats`), per batch:
///   `num_batches_tracked += 1`, `f = momentum.factor(t)`,
///   `running_mean = (1 - f) * running_mean + f * mean`,
///   `running_var  = (1 - f) * running_var  + f * var * m / (m - 1)` (UNBIASED).
/// - Eval with `trackRunningStats`: `y = (x - running_mean) / sqrt(running_var + eps) * weight + bias`.
/// - Adapted (``NormalizationPhase/adapted(priorWeight:)``) with `trackRunningStats`: the running statistics
///   mixed with the whole batch's (``BatchNormCore``), Schneider et al. 2020; without running statistics
///   it normalizes with the batch statistics, as eval mode then does.
/// - Batch statistics over `m == 1` value per channel throw PyTorch's error
///   ("Expected more than 1 value per channel when training"); batch 1 with
///   `H*W > 1` trains, normalizing each image by its own statistics.
/// - Ghost BatchNorm (Hoffer et al. 2017): with `ghostBatchSize = g`, the batch is cut
///   into consecutive chunks of `g` samples (the last may be smaller), each normalized
///   with its own statistics and each updating the running statistics once, as
///   PyTorch code that calls `F.batch_norm` per `x.chunk(...)` does.
/// Init: `weight = 1`, `bias = 0`, `running_mean = 0`, `running_var = 1`.
///
/// Ghost batching is switched off per call by `Mode.ghostBatches == false` (recalibration).
///
/// Forward keeps a reference to `x` and, per chunk and channel, `mean` and `invStd`
/// (`(chunks, C)` buffers); backward recomputes `x - mean` from them. The passes, the running
/// update and the state are ``BatchNormCore``'s, shared with ``BatchRenorm``; the loops run over
/// all channels at once (``BatchNormKernels``: Float within a plane, Double across planes).
public final class BatchNorm: RunningStatisticsLayer {
    public let trackRunningStats: Bool
    public let ghostBatchSize: Int?
    public let core: BatchNormCore

    public init(_ numFeatures: Int, eps: Float = 1e-5, momentum: BNMomentum = .exponential(0.1),
                trackRunningStats: Bool = true, ghostBatchSize: Int? = nil) {
        precondition((ghostBatchSize ?? 1) >= 1, "BatchNorm: ghost batch size must be >= 1, got \(ghostBatchSize ?? 0)")
        core = BatchNormCore(layer: "BatchNorm", features: numFeatures, eps: eps, momentum: momentum)
        self.trackRunningStats = trackRunningStats
        self.ghostBatchSize = ghostBatchSize
    }

    private init(copying other: BatchNorm) {
        core = other.core.copy(layer: "BatchNorm")
        trackRunningStats = other.trackRunningStats
        ghostBatchSize = other.ghostBatchSize
    }

    public var name: String { "BatchNorm(\(numFeatures), momentum=\(momentum)\(ghostBatchSize.map { ", ghost=\($0)" } ?? ""))" }
    public var parameters: [Parameter] { [weight, bias] }
    public func clone() -> BatchNorm { BatchNorm(copying: self) }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try core.forwardBatchNorm(x, mode: mode, trackRunningStats: trackRunningStats, ghostBatchSize: ghostBatchSize,
                                  layer: name)
    }

    /// Batch statistics (per chunk and channel, `m` values):
    /// `dx = (dy - sum(dy)/m - (x - mean) * invStd^2 * sum((x - mean) dy)/m) * invStd * weight`;
    /// running statistics: `dx = dy * weight / sqrt(running_var + eps)`.
    /// Both: `dweight += sum((x - mean) * invStd * dy)`, `dbias += sum(dy)`.
    public func backward(_ dy: Tensor) -> Tensor { core.backward(dy, layer: name) }
}
