import TensorCore

/// What ``BatchNorm`` and ``BatchRenorm`` share, owned by each layer (its `clone()` copies it):
/// the affine parameters, the running statistics and their update, the running-statistics pass,
/// and the batch-statistics pass, which Batch Renormalization corrects per channel with `(r, d)`.
///
/// Legend: `x (N, C)` or `(N, C, H, W)`; the batch is cut into chunks of consecutive samples
/// (one chunk, or Ghost BatchNorm's ghost batches), `m = samples * H*W` values per channel of a
/// chunk. Per chunk and channel:
/// - ``measure(chunk:)``: `mean = sum x / m`, `var = sum (x - mean)^2 / m` (BIASED), in Double
///   (``BatchNormKernels/moments``), and the batch statistics of ``lastBatchStatistics``;
/// - ``normalize(chunk:correction:)``: `invStd = 1 / sqrt(var + eps)`, `y = x * scale + shift` with
///   `scale = invStd * weight`, `shift = bias - mean * scale`; with a correction `(r, d)`:
///   `scale = invStd * weight * r`, `shift = weight * d + bias - mean * scale`;
/// - ``updateRunningStatistics(chunk:)``, PyTorch's convention (``BNMomentum``), `t = batchesTracked`
///   after the caller's increment: `f = momentum.factor(t)`,
///   `running_mean = (1 - f) * running_mean + f * mean`,
///   `running_var = (1 - f) * running_var + f * var * m / (m - 1)` (UNBIASED).
/// Running statistics (``forwardWithRunningStatistics(_:)``):
/// `y = (x - running_mean) / sqrt(running_var + eps) * weight + bias`.
/// Adapted statistics (``forwardWithAdaptedStatistics(_:priorWeight:layer:)``, ``NormalizationPhase/adapted(priorWeight:)``),
/// over the whole batch, `m = N*H*W`, prior weight `w`: `mean = w * running_mean + (1 - w) * mu_B`,
/// `var = w * running_var + (1 - w) * var_B * m / (m - 1)`, `y = (x - mean) / sqrt(var + eps) * weight + bias`;
/// the running statistics are read, never written.
///
/// Forward keeps a reference to `x` and, per chunk and channel, `mean` and `invStd`
/// (`(chunks, C)` buffers); backward recomputes `x - mean` from them. The loops run on the threads
/// the forward was given (blocks of channels, ``BatchNormKernels``), which backward keeps using.
///
/// Public only as an opaque handle (``RunningStatisticsLayer/core``): nothing of it is visible
/// outside NN, and nothing outside NN can make one.
public final class BatchNormCore {
    /// The module's state, which this core's passes read and update. A core of its own for each call
    /// site keeps that site's caches for backward; two cores on one state are one module called twice
    /// (``SharedBatchNormSite``).
    let state: BatchNormState
    var features: Int { state.features }
    var eps: Float { state.eps }
    var momentum: BNMomentum { state.momentum }
    var weight: Parameter { state.weight }
    var bias: Parameter { state.bias }
    var runningMean: Tensor { state.runningMean }
    var runningVar: Tensor { state.runningVar }
    var batchesTracked: Int {
        get { state.batchesTracked }
        set { state.batchesTracked = newValue }
    }

    /// The last measured chunk: `(3, C)` Float mean, biased and unbiased variance, and its `m`.
    private let lastBatch: Tensor
    private var lastValuesPerChannel = 0

    /// Which statistics the last forward normalized with.
    private enum Pass { case running, batch, adapted(priorWeight: Float) }

    private var input: Tensor?
    private var pass = Pass.running
    /// The threads of the last forward, which its chunks' passes and backward use too.
    private var threads = ComputeThreads.serial
    /// The adapted pass's mixed mean per channel.
    private let adaptedMean = Tensor()
    private var chunkSize = 1
    private let savedMean = Tensor()
    private let savedInvStd = Tensor()
    let output = Tensor()
    private let inputGradient = Tensor()
    /// Per-channel workspace: Double sums `(2, C)` (the chunk's mean and variance after
    /// ``measure(chunk:)``) and Float coefficients `(4, C)`, see ``BatchNormKernels``.
    private let sums: UnsafeMutablePointer<Double>
    private let coefficients: Tensor

    /// - Parameter layer: the layer's type name, for the messages of refused settings. The
    ///   passes below take the layer's `name` as an autoclosure: it is formatted only for an error.
    convenience init(layer: String, features: Int, eps: Float, momentum: BNMomentum) {
        self.init(state: BatchNormState(layer: layer, features: features, eps: eps, momentum: momentum))
    }

    /// A core with its own workspaces on `state` (shared with other cores when it is shared).
    init(state: BatchNormState) {
        self.state = state
        lastBatch = Tensor(Shape(3, state.features))
        sums = .allocate(capacity: 2 * state.features)
        coefficients = Tensor(Shape(4, state.features))
    }

    deinit { sums.deallocate() }

    /// A real copy of the parameter values and running statistics (no workspaces, no gradients).
    func copy(layer: String) -> BatchNormCore { BatchNormCore(state: state.copy()) }

    // MARK: - Running statistics as values

    var runningStatistics: RunningStatistics {
        RunningStatistics(mean: runningMean.array, variance: runningVar.array, batchesTracked: batchesTracked)
    }

    func restore(_ s: RunningStatistics, layer: @autoclosure () -> String) {
        precondition(s.mean.count == features && s.variance.count == features,
                     "\(layer()): snapshot has \(s.mean.count) features, layer has \(features)")
        for c in 0..<features {
            runningMean.data[c] = s.mean[c]
            runningVar.data[c] = s.variance[c]
        }
        batchesTracked = s.batchesTracked
    }

    var lastBatchStatistics: BatchStatistics? {
        guard lastValuesPerChannel > 0 else { return nil }
        let values = lastBatch.array
        return BatchStatistics(mean: Array(values[0..<features]), variance: Array(values[features..<(2 * features)]),
                               unbiasedVariance: Array(values[(2 * features)...]), valuesPerChannel: lastValuesPerChannel)
    }

    // MARK: - Forward

    func checkInput(_ x: Tensor, layer: @autoclosure () -> String) throws {
        guard (x.shape.rank == 2 || x.shape.rank == 4), x.shape.channels == features else {
            throw LayerError(layer: layer(), "expected input (N, \(features)) or (N, \(features), H, W), got \(x.shape)")
        }
    }

    /// BatchNorm's forward (see ``BatchNorm``): running statistics in eval mode (with
    /// `trackRunningStats`), otherwise batch statistics per chunk of `ghostBatchSize` samples
    /// (the whole batch without it, or with `mode.ghostBatches == false`), each chunk updating the
    /// running statistics once in train mode (not in train-without-update).
    func forwardBatchNorm(_ x: Tensor, mode: Mode, trackRunningStats: Bool, ghostBatchSize: Int?,
                          layer: @autoclosure () -> String) throws -> Tensor {
        try checkInput(x, layer: layer())
        switch mode.normalization {
        case .eval where trackRunningStats: return forwardWithRunningStatistics(x, threads: mode.threads)
        case .adapted(let w) where trackRunningStats:
            return try forwardWithAdaptedStatistics(x, priorWeight: w, threads: mode.threads, layer: layer())
        case .train, .trainWithoutUpdate, .eval, .adapted: break  // batch statistics (without running statistics: in every mode)
        }
        let updateRunning = mode.normalization == .train && trackRunningStats
        let n = x.shape.batch
        let ghost = mode.ghostBatches ? ghostBatchSize : nil
        // >= 1: backward divides by it, also for N = 0
        for k in try beginBatchStatistics(x, chunkSize: max(1, min(ghost ?? n, n)), threads: mode.threads,
                                          layer: layer()) {
            if updateRunning { batchesTracked += 1 }
            measure(chunk: k)
            normalize(chunk: k)
            if updateRunning { updateRunningStatistics(chunk: k) }
        }
        return output
    }

    /// `y = x * scale + shift` with `scale = weight / sqrt(running_var + eps)`,
    /// `shift = bias - running_mean * scale`; keeps `x` for backward.
    func forwardWithRunningStatistics(_ x: Tensor, threads: ComputeThreads) -> Tensor {
        let n = x.shape.batch, channels = features, hw = x.shape.spatial
        input = x
        pass = .running
        self.threads = threads
        output.resize(to: x.shape)
        let gamma = weight.value.data, beta = bias.value.data
        let scale = coefficients.data, shift = coefficients.data + channels
        for c in 0..<channels {
            let invStd = Float(1 / (Double(runningVar.data[c]) + Double(eps)).squareRoot())
            scale[c] = invStd * gamma[c]
            shift[c] = beta[c] - runningMean.data[c] * scale[c]
        }
        BatchNormKernels.affine(x.data, output.data, samples: 0..<n, channels: channels, spatial: hw,
                                scale: scale, shift: shift, threads: threads)
        return output
    }

    /// Test-time adaptation with a prior: normalizes `x` with the running statistics mixed with the
    /// batch's (see the type's summary), prior weight `w` in [0, 1]. Throws PyTorch's error, before
    /// any state changes, for one value per channel (the authors' batch statistics come from a
    /// train-mode BatchNorm2d, which refuses it). Keeps `x`, the batch mean (``savedMean``), the mixed
    /// mean and `invStd` for backward; changes no running statistic and no ``lastBatchStatistics``.
    func forwardWithAdaptedStatistics(_ x: Tensor, priorWeight w: Float, threads: ComputeThreads,
                                      layer: @autoclosure () -> String) throws -> Tensor {
        precondition(w >= 0 && w <= 1, "\(layer()): prior weight must be in [0, 1], got \(w)")
        let n = x.shape.batch, channels = features, hw = x.shape.spatial
        if n * hw <= 1 { throw singleValueError(layer: layer(), shape: x.shape) }
        input = x
        pass = .adapted(priorWeight: w)
        self.threads = threads
        chunkSize = max(1, n)
        output.resize(to: x.shape)
        savedMean.resize(to: Shape(1, channels))
        savedInvStd.resize(to: Shape(1, channels))
        adaptedMean.resize(to: Shape(channels))
        BatchNormKernels.moments(x.data, samples: 0..<n, channels: channels, spatial: hw,
                                 mean: sums, variance: sums + channels, threads: threads)
        let m = Double(n * hw), prior = Double(w)
        let gamma = weight.value.data, beta = bias.value.data
        let scale = coefficients.data, shift = coefficients.data + channels
        for c in 0..<channels {
            let unbiased = chunkVariance[c] * m / (m - 1)
            let mean = prior * Double(runningMean.data[c]) + (1 - prior) * chunkMean[c]
            let variance = prior * Double(runningVar.data[c]) + (1 - prior) * unbiased
            let invStd = Float(1 / (variance + Double(eps)).squareRoot())
            savedMean.data[c] = Float(chunkMean[c])
            savedInvStd.data[c] = invStd
            adaptedMean.data[c] = Float(mean)
            scale[c] = invStd * gamma[c]
            shift[c] = beta[c] - Float(mean) * scale[c]
        }
        BatchNormKernels.affine(x.data, output.data, samples: 0..<n, channels: channels, spatial: hw,
                                scale: scale, shift: shift, threads: threads)
        return output
    }

    /// Starts a batch-statistics forward of `x` in chunks of `chunkSize` samples (>= 1) and returns
    /// the chunks' indices. Throws PyTorch's error, before any state changes, when a chunk has a
    /// single value per channel.
    func beginBatchStatistics(_ x: Tensor, chunkSize size: Int, threads: ComputeThreads,
                              layer: @autoclosure () -> String) throws -> Range<Int> {
        let n = x.shape.batch, hw = x.shape.spatial
        precondition(size >= 1, "\(layer()): chunk size must be >= 1, got \(size)")  // backward divides by it
        let chunks = n == 0 ? 0 : (n + size - 1) / size
        for k in 0..<chunks where min(size, n - k * size) * hw <= 1 {
            throw singleValueError(layer: layer(), shape: x.shape.withBatch(min(size, n - k * size)))
        }
        input = x
        pass = .batch
        self.threads = threads
        chunkSize = size
        output.resize(to: x.shape)
        savedMean.resize(to: Shape(chunks, features))
        savedInvStd.resize(to: Shape(chunks, features))
        return 0..<chunks
    }

    /// The samples of chunk `k` of the current input.
    private func samples(ofChunk k: Int) -> Range<Int> {
        (k * chunkSize)..<min(input!.shape.batch, (k + 1) * chunkSize)
    }

    /// Computes chunk `k`'s per-channel mean and BIASED variance (``chunkMean``, ``chunkVariance``)
    /// and records them as the last batch statistics.
    func measure(chunk k: Int) {
        guard let x = input else { preconditionFailure("measure before beginBatchStatistics") }
        let samples = samples(ofChunk: k), hw = x.shape.spatial, channels = features
        BatchNormKernels.moments(x.data, samples: samples, channels: channels, spatial: hw,
                                 mean: sums, variance: sums + channels, threads: threads)
        recordLastBatch(valuesPerChannel: samples.count * hw)
    }

    /// SyncBatchNorm's statistics of chunk `k` (the whole batch, one chunk): the moments of each of
    /// its `shards` consecutive device shards (`torch.chunk`: ceil(n / shards) samples, the last
    /// smaller), combined as `batch_norm_gather_stats_with_counts` combines the ranks' (Chan, Golub &
    /// LeVeque's parallel update, in Double here): `mean = sum n_r mean_r / n`,
    /// `var = sum n_r (var_r + (mean_r - mean)^2) / n` (biased), then recorded as ``measure(chunk:)`` does.
    func measureAcrossShards(chunk k: Int, shards: Int) {
        guard let x = input else { preconditionFailure("measure before beginBatchStatistics") }
        let samples = samples(ofChunk: k), hw = x.shape.spatial, channels = features
        let shardSize = max(1, (samples.count + shards - 1) / shards)
        let shard = UnsafeMutablePointer<Double>.allocate(capacity: 2 * channels)
        defer { shard.deallocate() }
        var mean = [Double](repeating: 0, count: channels), m2 = mean, seen = 0.0
        for start in stride(from: samples.lowerBound, to: samples.upperBound, by: shardSize) {
            let part = start..<min(start + shardSize, samples.upperBound)
            BatchNormKernels.moments(x.data, samples: part, channels: channels, spatial: hw,
                                     mean: shard, variance: shard + channels, threads: threads)
            let count = Double(part.count * hw), total = seen + count
            for c in 0..<channels {
                let delta = shard[c] - mean[c]
                mean[c] += delta * (count / total)
                m2[c] += shard[channels + c] * count + delta * delta * (seen * count / total)
            }
            seen = total
        }
        for c in 0..<channels {
            sums[c] = mean[c]
            sums[channels + c] = m2[c] / seen
        }
        recordLastBatch(valuesPerChannel: samples.count * hw)
    }

    /// Records the chunk's moments in ``sums`` as the last batch statistics.
    private func recordLastBatch(valuesPerChannel m: Int) {
        let channels = features
        lastValuesPerChannel = m
        let last = lastBatch.data
        for c in 0..<channels {
            let variance = chunkVariance[c]
            last[c] = Float(chunkMean[c])
            last[channels + c] = Float(variance)
            last[2 * channels + c] = Float(variance * Double(m) / Double(m - 1))
        }
    }

    /// The last measured chunk's mean and BIASED variance per channel, in Double.
    var chunkMean: UnsafePointer<Double> { UnsafePointer(sums) }
    var chunkVariance: UnsafePointer<Double> { UnsafePointer(sums + features) }

    /// Normalizes chunk `k` with the statistics ``measure(chunk:)`` just computed, corrected by
    /// `(r, d)` per channel if given (Batch Renormalization), and keeps `mean`, `invStd` for backward.
    func normalize(chunk k: Int, correction: (r: UnsafePointer<Float>, d: UnsafePointer<Float>)? = nil) {
        guard let x = input else { preconditionFailure("normalize before beginBatchStatistics") }
        let channels = features
        let gamma = weight.value.data, beta = bias.value.data
        let scale = coefficients.data, shift = coefficients.data + channels
        for c in 0..<channels {
            let mean = chunkMean[c], variance = chunkVariance[c]
            let invStd = Float(1 / (variance + Double(eps)).squareRoot())
            savedMean.data[k * channels + c] = Float(mean)
            savedInvStd.data[k * channels + c] = invStd
            if let correction {
                // y = gamma * ((x - mean) * invStd * r + d) + beta = x * scale + shift
                let r = correction.r[c], d = correction.d[c]
                scale[c] = invStd * gamma[c] * r
                shift[c] = gamma[c] * d + beta[c] - Float(mean) * scale[c]
            } else {
                scale[c] = invStd * gamma[c]
                shift[c] = beta[c] - Float(mean) * scale[c]
            }
        }
        BatchNormKernels.affine(x.data, output.data, samples: samples(ofChunk: k), channels: channels,
                                spatial: x.shape.spatial, scale: scale, shift: shift, threads: threads)
    }

    /// Folds chunk `k`'s statistics into the running ones (see the type's summary), or into the
    /// given buffers (another device's, ``DataParallelBatchNorm``); the caller has counted the batch
    /// in ``batchesTracked``.
    func updateRunningStatistics(chunk k: Int, into buffers: (mean: Tensor, variance: Tensor)? = nil) {
        guard let x = input else { preconditionFailure("update before beginBatchStatistics") }
        let m = samples(ofChunk: k).count * x.shape.spatial
        let f = momentum.factor(batchesTracked: max(batchesTracked, 1))
        let runningMean = buffers?.mean ?? self.runningMean, runningVar = buffers?.variance ?? self.runningVar
        for c in 0..<features {
            let unbiased = chunkVariance[c] * Double(m) / Double(m - 1)
            runningMean.data[c] = (1 - f) * runningMean.data[c] + f * Float(chunkMean[c])
            runningVar.data[c] = (1 - f) * runningVar.data[c] + f * Float(unbiased)
        }
    }

    // MARK: - Backward

    /// The gradient of the last forward.
    /// Batch statistics (per chunk and channel, `m` values, `xhat = (x - mean) * invStd`):
    /// `dx = (dy - sum(dy)/m - (x - mean) * invStd^2 * sum((x - mean) dy)/m) * invStd * weight`,
    /// `dweight += sum(xhat * dy)`, `dbias += sum(dy)`; with a correction `(r, d)` held constant
    /// (stop-gradient): `dx` times `r`, `dweight += r * sum(xhat * dy) + d * sum(dy)`.
    /// Running statistics: `dx = dy * weight / sqrt(running_var + eps)`,
    /// `dweight += sum((x - running_mean) * dy) / sqrt(running_var + eps)`, `dbias += sum(dy)`.
    /// Adapted statistics (prior weight `w`, mixed `mean`, `invStd`, batch mean `mu_B`), no correction:
    /// `S = sum((x - mean) * dy)`, `dweight += S * invStd`, `dbias += sum(dy)`,
    /// `dx = (dy - (1 - w) * sum(dy)/m - (x - mu_B) * (1 - w) * invStd^2 * S/(m - 1)) * invStd * weight`.
    func backward(_ dy: Tensor, layer: @autoclosure () -> String, correction: (r: UnsafePointer<Float>, d: UnsafePointer<Float>)? = nil)
        -> Tensor {
        guard let x = input else { preconditionFailure("\(layer()): backward before forward") }
        precondition(dy.shape == x.shape, "\(layer()): gradient \(dy.shape) does not match input \(x.shape)")
        let n = x.shape.batch, channels = features, hw = x.shape.spatial
        inputGradient.resize(to: x.shape)
        let gamma = weight.value.data, dGamma = weight.gradient.data, dBeta = bias.gradient.data
        let sum = sums, dot = sums + channels
        let scale = coefficients.data, gradMean = scale + channels
        let projection = scale + 2 * channels, zeroShift = scale + 3 * channels
        if case .adapted(let w) = pass {
            BatchNormKernels.gradientSums(x.data, dy.data, samples: 0..<n, channels: channels, spatial: hw,
                                          mean: adaptedMean.data, sum: sum, dot: dot, threads: threads)
            let m = Float(n * hw), invStd = savedInvStd.data
            for c in 0..<channels {
                dGamma[c] += Float(dot[c]) * invStd[c]
                dBeta[c] += Float(sum[c])
                scale[c] = invStd[c] * gamma[c]
                gradMean[c] = (1 - w) * Float(sum[c]) / m
                projection[c] = (1 - w) * invStd[c] * invStd[c] * Float(dot[c]) / (m - 1)
            }
            BatchNormKernels.inputGradient(x.data, dy.data, inputGradient.data, samples: 0..<n, channels: channels,
                                           spatial: hw, mean: savedMean.data, gradMean: gradMean, projection: projection,
                                           scale: scale, threads: threads)
            return inputGradient
        }
        if case .running = pass {
            BatchNormKernels.gradientSums(x.data, dy.data, samples: 0..<n, channels: channels, spatial: hw,
                                          mean: runningMean.data, sum: sum, dot: dot, threads: threads)
            for c in 0..<channels {
                let invStd = Float(1 / (Double(runningVar.data[c]) + Double(eps)).squareRoot())
                dGamma[c] += Float(dot[c]) * invStd
                dBeta[c] += Float(sum[c])
                scale[c] = invStd * gamma[c]
                zeroShift[c] = 0
            }
            BatchNormKernels.affine(dy.data, inputGradient.data, samples: 0..<n, channels: channels, spatial: hw,
                                    scale: scale, shift: zeroShift, threads: threads)
            return inputGradient
        }
        let chunks = (n + chunkSize - 1) / chunkSize
        for k in 0..<chunks {
            let samples = samples(ofChunk: k)
            let m = Float(samples.count * hw)
            let mean = savedMean.data + k * channels, invStd = savedInvStd.data + k * channels
            BatchNormKernels.gradientSums(x.data, dy.data, samples: samples, channels: channels, spatial: hw,
                                          mean: mean, sum: sum, dot: dot, threads: threads)
            for c in 0..<channels {
                if let correction {
                    let r = correction.r[c], d = correction.d[c]
                    dGamma[c] += r * Float(dot[c]) * invStd[c] + d * Float(sum[c])
                    scale[c] = invStd[c] * r * gamma[c]
                } else {
                    dGamma[c] += Float(dot[c]) * invStd[c]
                    scale[c] = invStd[c] * gamma[c]
                }
                dBeta[c] += Float(sum[c])
                gradMean[c] = Float(sum[c]) / m
                projection[c] = Float(dot[c]) * invStd[c] * invStd[c] / m
            }
            BatchNormKernels.inputGradient(x.data, dy.data, inputGradient.data, samples: samples, channels: channels,
                                           spatial: hw, mean: mean, gradMean: gradMean, projection: projection,
                                           scale: scale, threads: threads)
        }
        return inputGradient
    }
}

/// The state of one BatchNorm module: the affine parameters, the running statistics and
/// `num_batches_tracked`. Owned by one layer (its ``BatchNormCore``), or by the sites of a shared
/// module (``SharedBatchNormSite``): one state for the whole module, or, for the shared-affine remedy,
/// one per site whose `weight` and `bias` are the same ``Parameter`` objects.
final class BatchNormState {
    let features: Int
    let eps: Float
    let momentum: BNMomentum
    let weight: Parameter
    let bias: Parameter
    let runningMean: Tensor
    let runningVar: Tensor
    var batchesTracked = 0

    /// PyTorch's init: `weight = 1`, `bias = 0` (or the given shared affine), `running_mean = 0`,
    /// `running_var = 1`.
    init(layer: String, features: Int, eps: Float, momentum: BNMomentum,
         affine: (weight: Parameter, bias: Parameter)? = nil) {
        precondition(features > 0, "\(layer): numFeatures must be positive, got \(features)")
        precondition(eps > 0, "\(layer): eps must be positive, got \(eps)")
        if case .exponential(let m) = momentum {
            precondition(m >= 0 && m <= 1, "\(layer): momentum must be in [0, 1], got \(m)")
        }
        self.features = features
        self.eps = eps
        self.momentum = momentum
        (weight, bias) = affine ?? Parameter.normalizationAffine(count: features)
        precondition(weight.value.shape.count == features && bias.value.shape.count == features,
                     "\(layer): a shared affine of \(weight.value.shape.count) values for \(features) features")
        runningMean = Tensor(Shape(features))
        runningVar = Tensor(Shape(features))
        runningVar.fill(1)
    }

    /// A real copy of the values (no gradients), with `affine` as its parameters when given (a copy
    /// that shares its affine with other copies).
    func copy(affine: (weight: Parameter, bias: Parameter)? = nil) -> BatchNormState {
        let c = BatchNormState(layer: "BatchNorm", features: features, eps: eps, momentum: momentum,
                               affine: affine ?? (weight.copyValue(), bias.copyValue()))
        c.runningMean.assign(runningMean)
        c.runningVar.assign(runningVar)
        c.batchesTracked = batchesTracked
        return c
    }
}

extension Parameter {
    /// A parameter with a copy of the value and a zero gradient.
    func copyValue() -> Parameter { Parameter(name: name, value: value.copy()) }
}
