import TensorCore

/// Batch Renormalization (Ioffe 2017, "Batch Renormalization: Towards Reducing
/// Minibatch Dependence in Batch-Normalized Models"), over `(N, C)` or `(N, C, H, W)`.
///
/// Train mode (per channel, `m = N*H*W`, running statistics BEFORE this batch's update):
/// `sigma_B = sqrt(var_B + eps)` (biased `var_B`), `sigma = sqrt(running_var + eps)`,
/// `r = clip(sigma_B / sigma, 1/r_max, r_max)`, `d = clip((mean_B - running_mean) / sigma, -d_max, d_max)`,
/// `y = weight * ((x - mean_B) / sigma_B * r + d) + bias`, with `r` and `d` treated as
/// constants in backward (stop-gradient). The running statistics are then updated
/// exactly as ``BatchNorm`` does (momentum convention, unbiased variance): the two layers share
/// ``BatchNormCore`` and differ only in `r`, `d` and their schedule.
/// Train without update (``NormalizationPhase/trainWithoutUpdate``): the same `y`, with neither the
/// running statistics nor the schedule's pass count `t` moved.
/// Eval mode, and test-time adaptation with a prior (``NormalizationPhase/adapted(priorWeight:)``):
/// identical to BatchNorm's.
///
/// The clipping limits follow the paper's schedule (r_max = 1, d_max = 0 at first, "then gradually
/// relaxed"), counted in train-mode forward passes: `t` = the passes BEFORE this one (0 at the first
/// step; one per optimizer step), see ``Limits/limits(atStep:)``.
/// With `r_max = 1`, `d_max = 0` the layer is plain BatchNorm.
public final class BatchRenorm: RunningStatisticsLayer {
    /// The clipping limits and their warm-up schedule.
    public struct Limits: Equatable, Hashable, Sendable {
        /// The final limit of r, `r` in `[1/rMax, rMax]`; >= 1.
        public var rMax: Float
        /// The final limit of d, `|d| <= dMax`; >= 0.
        public var dMax: Float
        /// Train steps with `r_max = 1`, `d_max = 0` (plain BatchNorm) before the ramp starts.
        public var warmupSteps: Int
        /// Train steps over which the limits rise linearly to `rMax` and `dMax`.
        public var rampSteps: Int
        public init(rMax: Float = 3, dMax: Float = 5, warmupSteps: Int = 0, rampSteps: Int = 0) {
            precondition(rMax >= 1 && dMax >= 0 && warmupSteps >= 0 && rampSteps >= 0,
                         "BatchRenorm limits: need rMax >= 1, dMax >= 0, steps >= 0 (got \(rMax), \(dMax), \(warmupSteps), \(rampSteps))")
            self.rMax = rMax; self.dMax = dMax; self.warmupSteps = warmupSteps; self.rampSteps = rampSteps
        }

        /// `(r_max, d_max)` at train step `t`, the number of train steps taken BEFORE this one
        /// (0 for the first):
        /// `ramp(t) = clamp((t - warmupSteps) / rampSteps, 0, 1)`, `r_max(t) = 1 + (rMax - 1) * ramp(t)`,
        /// `d_max(t) = dMax * ramp(t)`. With `rampSteps > 0` the steps `t <= warmupSteps` are plain
        /// BatchNorm (`ramp = 0` at `t = warmupSteps` too) and the full limits hold from
        /// `t = warmupSteps + rampSteps` on; with `rampSteps == 0` the limits jump from plain to
        /// full at `t = warmupSteps`.
        ///
        /// Source: Ioffe 2017 (experiments: r_max = 1, d_max = 0 for the first 5k steps, then
        /// "gradually relaxed" to reach r_max = 3 at 40k and d_max = 5 at 25k steps) gives no formula; the
        /// public PyTorch implementation ludvb/batchrenorm writes that schedule as
        /// `r_max = clamp(2/35000 * num_batches_tracked + 25/35, 1, 3)`, read before
        /// `num_batches_tracked += 1`, i.e. `1 + 2 * (t - 5000) / 35000` with this `t`: 1 at
        /// `t = 5000`, 3 at `t = 40000`. TensorFlow/Keras take `renorm_clipping` values from the
        /// caller and have no schedule of their own.
        public func limits(atStep t: Int) -> (rMax: Float, dMax: Float) {
            let ramp: Float
            if t < warmupSteps { ramp = 0 }
            else if rampSteps == 0 { ramp = 1 }
            else { ramp = min(1, Float(t - warmupSteps) / Float(rampSteps)) }
            return (1 + (rMax - 1) * ramp, dMax * ramp)
        }
    }

    public let limits: Limits
    public let trackRunningStats = true
    /// Ghost batches are not defined for Batch Renormalization.
    public let ghostBatchSize: Int? = nil
    /// Train-mode forward passes so far (the schedule's `t`).
    public private(set) var trainSteps: Int = 0
    /// `r` and `d` per channel of the last train-mode forward.
    public let lastR = Tensor()
    public let lastD = Tensor()
    public let core: BatchNormCore

    public init(_ numFeatures: Int, eps: Float = 1e-5, momentum: BNMomentum = .exponential(0.1), limits: Limits = Limits()) {
        core = BatchNormCore(layer: "BatchRenorm", features: numFeatures, eps: eps, momentum: momentum)
        self.limits = limits
    }

    private init(copying other: BatchRenorm) {
        core = other.core.copy(layer: "BatchRenorm")
        limits = other.limits
        trainSteps = other.trainSteps
    }

    public var name: String { "BatchRenorm(\(numFeatures), momentum=\(momentum), rmax=\(limits.rMax), dmax=\(limits.dMax))" }
    public var parameters: [Parameter] { [weight, bias] }
    public func clone() -> BatchRenorm { BatchRenorm(copying: self) }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try core.checkInput(x, layer: name)
        switch mode.normalization {
        case .train, .trainWithoutUpdate: break
        case .eval: return core.forwardWithRunningStatistics(x, threads: mode.threads)
        case .adapted(let w): return try core.forwardWithAdaptedStatistics(x, priorWeight: w, threads: mode.threads, layer: name)
        }
        let n = x.shape.batch, channels = numFeatures
        if n * x.shape.spatial <= 1 { throw singleValueError(layer: name, shape: x.shape) }
        _ = try core.beginBatchStatistics(x, chunkSize: n, threads: mode.threads, layer: name)
        let (rMax, dMax) = limits.limits(atStep: trainSteps)
        let update = mode.normalization == .train  // train-without-update: no counter or statistic moves
        if update {
            trainSteps += 1
            core.batchesTracked += 1
        }
        core.measure(chunk: 0)
        // r and d against the running statistics BEFORE this batch's update
        lastR.resize(to: Shape(channels))
        lastD.resize(to: Shape(channels))
        let means = core.chunkMean, variances = core.chunkVariance
        for c in 0..<channels {
            let sigmaB = (variances[c] + Double(eps)).squareRoot()
            let sigma = (Double(runningVar.data[c]) + Double(eps)).squareRoot()
            lastR.data[c] = Float(min(max(sigmaB / sigma, 1 / Double(rMax)), Double(rMax)))
            lastD.data[c] = Float(min(max((means[c] - Double(runningMean.data[c])) / sigma, -Double(dMax)), Double(dMax)))
        }
        core.normalize(chunk: 0, correction: (UnsafePointer(lastR.data), UnsafePointer(lastD.data)))
        if update { core.updateRunningStatistics(chunk: 0) }
        return core.output
    }

    /// Train mode, with `r`, `d` constant and `xhat = (x - mean) * invStd`:
    /// `dx = (dy - sum(dy)/m - (x - mean) * invStd^2 * sum((x - mean) dy)/m) * invStd * r * weight`,
    /// `dweight += r * sum(xhat * dy) + d * sum(dy)`, `dbias += sum(dy)`. Eval mode as BatchNorm.
    public func backward(_ dy: Tensor) -> Tensor {
        core.backward(dy, layer: name, correction: (UnsafePointer(lastR.data), UnsafePointer(lastD.data)))
    }
}
