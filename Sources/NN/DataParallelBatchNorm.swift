import TensorCore

/// BatchNorm under data-parallel training on `K` devices, simulated in one process: each device
/// normalizes its own shard of the batch (PyTorch's `DistributedDataParallel` with `nn.BatchNorm2d`),
/// or all devices share the statistics of the whole batch (`nn.SyncBatchNorm`).
///
/// Legend: `x (N, C)` or `(N, C, H, W)`; `K` devices (ranks `r = 0..<K`); in a batch-statistics
/// forward the batch is cut into consecutive shards as `torch.chunk(K)` cuts it: `ceil(N / K)`
/// samples each, the last smaller (a training batch of `batch_size` samples, which `K` divides, gives
/// `K` shards of `batch_size / K`: shard `r` is rank `r`'s per-device batch). Every formula is
/// ``BatchNorm``'s. Per ``Policy``:
/// - `rank0`: each shard normalized with its own statistics (as Ghost BatchNorm with ghost batches of
///   `N / K`); the running statistics are rank 0's, updated once per forward from shard 0 only. That
///   is DDP's default `broadcast_buffers=True`: `DistributedDataParallel._pre_forward` calls
///   `_sync_buffers()`, which broadcasts rank 0's buffers (`authoritative_rank = 0`) to every rank
///   before each forward, so each rank's own update from its shard is overwritten before it is ever
///   read, and the buffers rank 0 evaluates and saves follow shard 0 alone (`nn.DataParallel` keeps
///   device 0's replica's buffers, the same result).
/// - `reduce`: each shard normalized with its own statistics, and each rank keeps running statistics
///   from its own shard (one update per forward; DDP with `broadcast_buffers=False`, timm's
///   `--no-ddp-bb`); ``distributeRunningStatistics()``, called at the end of every epoch, averages
///   them over the ranks, `running = sum_r running_r / K` (timm `utils.distribute_bn(model,
///   world_size, reduce=True)`: `all_reduce(SUM)` then `/ world_size` on every `running_mean` and
///   `running_var`, not `num_batches_tracked`, which is equal on all ranks). Between two averages
///   the buffers evaluated (eval mode, the probe, the state dict) are rank 0's, as on the rank that
///   validates and saves; after the last epoch's average every rank holds the average.
/// - `sync`: SyncBatchNorm: the statistics of the whole batch, combined from the shards' moments
///   (``BatchNormCore/measureAcrossShards(chunk:shards:)``), one running update per forward with the
///   unbiased variance over all `N*H*W` values; plain BatchNorm on the full batch up to rounding.
/// Eval mode: running statistics (rank 0's), as BatchNorm.
///
/// Gradients: DDP averages the ranks' gradients of their own mean losses, `(1/K) sum_r dL_r/dtheta`
/// with `L_r` the mean over shard `r`; the full-batch mean loss is `L = (1/K) sum_r L_r`, so that
/// average is `dL/dtheta` through the per-shard normalization: the single-process backward of the
/// mean loss over the batch, per shard (`rank0`, `reduce`) or over the whole batch (`sync`, whose
/// backward all-reduces `sum(dy)` and `sum(dy * (x - mean))` over the ranks: the full-batch sums).
///
/// ``Mode/ghostBatches`` `false` (recalibration's passes) takes the statistics over the whole batch.
/// Forward keeps what ``BatchNorm`` keeps (per shard, or one chunk for `sync`).
public final class DataParallelBatchNorm: RunningStatisticsLayer {
    /// Where the running statistics come from (see the type's summary).
    public enum Policy: String, Sendable, CaseIterable {
        case rank0, reduce, sync
    }

    /// `K`, the simulated devices (>= 2).
    public let devices: Int
    public let policy: Policy
    public let trackRunningStats: Bool
    /// Ghost batches are not combined with devices.
    public let ghostBatchSize: Int? = nil
    /// Rank 0's parameters and running statistics, and the passes.
    public let core: BatchNormCore
    /// `reduce`: the running mean and variance of ranks `1..<K` (rank 0's are the core's); empty otherwise.
    private let otherRanks: [(mean: Tensor, variance: Tensor)]

    public init(_ numFeatures: Int, devices: Int, policy: Policy, eps: Float = 1e-5,
                momentum: BNMomentum = .exponential(0.1), trackRunningStats: Bool = true) {
        precondition(devices >= 2, "DataParallelBatchNorm: devices must be >= 2 (1 device is BatchNorm), got \(devices)")
        core = BatchNormCore(layer: "BatchNorm", features: numFeatures, eps: eps, momentum: momentum)
        self.devices = devices
        self.policy = policy
        self.trackRunningStats = trackRunningStats
        otherRanks = policy == .reduce && trackRunningStats ? (1..<devices).map { _ in
            let variance = Tensor(Shape(numFeatures))
            variance.fill(1)
            return (Tensor(Shape(numFeatures)), variance)
        } : []
    }

    private init(copying other: DataParallelBatchNorm) {
        core = other.core.copy(layer: "BatchNorm")
        devices = other.devices
        policy = other.policy
        trackRunningStats = other.trackRunningStats
        otherRanks = other.otherRanks.map { ($0.mean.copy(), $0.variance.copy()) }
    }

    public var name: String { "BatchNorm(\(numFeatures), momentum=\(momentum), devices=\(devices), \(policy.rawValue))" }
    public var parameters: [Parameter] { [weight, bias] }
    public func clone() -> DataParallelBatchNorm { DataParallelBatchNorm(copying: self) }

    /// The running statistics of every rank, rank 0 first (`reduce`: each its own; otherwise rank 0's,
    /// the only ones there are).
    public var rankRunningStatistics: [RunningStatistics] {
        [core.runningStatistics] + otherRanks.map {
            RunningStatistics(mean: $0.mean.array, variance: $0.variance.array, batchesTracked: core.batchesTracked)
        }
    }

    /// Sets every rank's running statistics to `s` (a recalibration or a loaded checkpoint reaches
    /// every rank).
    public func restoreRunningStatistics(_ s: RunningStatistics) {
        core.restore(s, layer: name)
        for rank in otherRanks {
            rank.mean.assign(core.runningMean)
            rank.variance.assign(core.runningVar)
        }
    }

    /// timm's `distribute_bn(reduce=True)`: every rank's running mean and variance become their
    /// average over the ranks (in Double, rounded once). Nothing to do but for `reduce`.
    public func distributeRunningStatistics() {
        guard !otherRanks.isEmpty else { return }
        let k = Double(devices)
        for (own, others) in [(core.runningMean, otherRanks.map(\.mean)), (core.runningVar, otherRanks.map(\.variance))] {
            for c in 0..<numFeatures {
                let average = Float(others.reduce(Double(own.data[c])) { $0 + Double($1.data[c]) } / k)
                own.data[c] = average
                for rank in others { rank.data[c] = average }
            }
        }
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard mode.ghostBatches else {
            return try core.forwardBatchNorm(x, mode: mode, trackRunningStats: trackRunningStats, ghostBatchSize: nil,
                                             layer: name)
        }
        try core.checkInput(x, layer: name)
        let batchStatistics = mode.normalization == .train || mode.normalization == .trainWithoutUpdate
        guard batchStatistics || !trackRunningStats else { return core.forwardWithRunningStatistics(x, threads: mode.threads) }
        let updateRunning = mode.normalization == .train && trackRunningStats
        let n = x.shape.batch
        if updateRunning { core.batchesTracked += 1 }  // one forward per rank
        if policy == .sync {
            _ = try core.beginBatchStatistics(x, chunkSize: max(1, n), threads: mode.threads, layer: name)
            if n == 0 { return core.output }
            core.measureAcrossShards(chunk: 0, shards: devices)
            core.normalize(chunk: 0)
            if updateRunning { core.updateRunningStatistics(chunk: 0) }
            return core.output
        }
        for r in try core.beginBatchStatistics(x, chunkSize: max(1, (n + devices - 1) / devices),
                                                   threads: mode.threads, layer: name) {
            core.measure(chunk: r)
            core.normalize(chunk: r)
            guard updateRunning else { continue }
            switch policy {
            case .rank0: if r == 0 { core.updateRunningStatistics(chunk: 0) }
            case .reduce: core.updateRunningStatistics(chunk: r, into: r == 0 ? nil : otherRanks[r - 1])
            case .sync: preconditionFailure("sync is handled above")
            }
        }
        return core.output
    }

    /// ``BatchNorm``'s backward, per shard (`rank0`, `reduce`) or over the whole batch (`sync`).
    public func backward(_ dy: Tensor) -> Tensor { core.backward(dy, layer: name) }
}

extension Sequential {
    /// timm's `distribute_bn(model, world_size, reduce=True)` on every ``DataParallelBatchNorm`` with
    /// policy `reduce` (the trainer calls it at the end of every epoch); the others are unchanged.
    public func distributeRunningStatistics() {
        for layer in allLayers { (layer as? DataParallelBatchNorm)?.distributeRunningStatistics() }
    }
}
