import TensorCore

/// Batch Renormalization (Ioffe 2017, "Batch Renormalization: Towards Reducing
/// Minibatch Dependence in Batch-Normalized Models"), over `(N, C)` or `(N, C, H, W)`.
///
/// Train mode (per channel, `m = N*H*W`, running statistics BEFORE this batch's update):
/// `sigma_B = sqrt(var_B + eps)` (biased `var_B`), `sigma = sqrt(running_var + eps)`,
/// `r = clip(sigma_B / sigma, 1/r_max, r_max)`, `d = clip((mean_B - running_mean) / sigma, -d_max, d_max)`,
/// `y = weight * ((x - mean_B) / sigma_B * r + d) + bias`, with `r` and `d` treated as
/// constants in backward (stop-gradient). The running statistics are then updated
/// exactly as ``BatchNorm`` does (momentum convention, unbiased variance).
/// Eval mode: identical to BatchNorm's.
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

    public let numFeatures: Int
    public let eps: Float
    public var momentum: BNMomentum
    public let trackRunningStats = true
    public let limits: Limits
    /// Ghost batches are not defined for Batch Renormalization: only nil is accepted.
    public var ghostBatchSize: Int? {
        didSet { precondition(ghostBatchSize == nil, "BatchRenorm does not support ghost batches") }
    }
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Tensor
    public let runningVar: Tensor
    public var numBatchesTracked: Int = 0
    /// Train-mode forward passes so far (the schedule's `t`).
    public private(set) var trainSteps: Int = 0
    public private(set) var lastValuesPerChannel: Int = 0
    /// `r` and `d` per channel of the last train-mode forward.
    public let lastR = Tensor()
    public let lastD = Tensor()

    private var input: Tensor?
    private var usedBatchStatistics = false
    private let savedMean = Tensor()
    private let savedInvStd = Tensor()
    private let output = Tensor()
    private let inputGradient = Tensor()
    /// Per-channel workspace shared with BatchNorm's kernels: Double sums `(2, C)`, Float coefficients `(4, C)`.
    private let sums: UnsafeMutablePointer<Double>
    private let coefficients: Tensor

    public init(_ numFeatures: Int, eps: Float = 1e-5, momentum: BNMomentum = .exponential(0.1), limits: Limits = Limits()) {
        precondition(numFeatures > 0 && eps > 0, "BatchRenorm(\(numFeatures), eps=\(eps)): bad configuration")
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
        self.limits = limits
        weight = Parameter(name: "weight", value: Tensor(Shape(numFeatures)))
        weight.value.fill(1)
        bias = Parameter(name: "bias", value: Tensor(Shape(numFeatures)))
        runningMean = Tensor(Shape(numFeatures))
        runningVar = Tensor(Shape(numFeatures))
        runningVar.fill(1)
        sums = .allocate(capacity: 2 * numFeatures)
        coefficients = Tensor(Shape(4, numFeatures))
    }

    deinit { sums.deallocate() }

    public var name: String { "BatchRenorm(\(numFeatures), momentum=\(momentum), rmax=\(limits.rMax), dmax=\(limits.dMax))" }
    public var parameters: [Parameter] { [weight, bias] }

    public func clone() -> BatchRenorm {
        let c = BatchRenorm(numFeatures, eps: eps, momentum: momentum, limits: limits)
        c.weight.value.assign(weight.value)
        c.bias.value.assign(bias.value)
        c.runningMean.assign(runningMean)
        c.runningVar.assign(runningVar)
        c.numBatchesTracked = numBatchesTracked
        c.trainSteps = trainSteps
        return c
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard (x.shape.rank == 2 || x.shape.rank == 4), x.shape.channels == numFeatures else {
            throw LayerError(layer: name, "expected input (N, \(numFeatures)) or (N, \(numFeatures), H, W), got \(x.shape)")
        }
        let n = x.shape.batch, channels = numFeatures, hw = x.shape.spatial
        input = x
        output.resize(to: x.shape)
        let gamma = weight.value.data, beta = bias.value.data
        let scale = coefficients.data, shift = coefficients.data + channels
        usedBatchStatistics = mode.normalization == .train
        guard usedBatchStatistics else {
            for c in 0..<channels {
                let invStd = Float(1 / (Double(runningVar.data[c]) + Double(eps)).squareRoot())
                scale[c] = invStd * gamma[c]
                shift[c] = beta[c] - runningMean.data[c] * scale[c]
            }
            BatchNormKernels.affine(x.data, output.data, samples: 0..<n, channels: channels, spatial: hw,
                                    scale: scale, shift: shift)
            return output
        }
        let m = n * hw
        if m <= 1 { throw singleValueError(layer: name, shape: x.shape) }
        lastValuesPerChannel = m
        let (rMax, dMax) = limits.limits(atStep: trainSteps)
        trainSteps += 1
        numBatchesTracked += 1
        let f = momentum.factor(batchesTracked: numBatchesTracked)
        savedMean.resize(to: Shape(channels))
        savedInvStd.resize(to: Shape(channels))
        lastR.resize(to: Shape(channels))
        lastD.resize(to: Shape(channels))
        let means = sums, variances = sums + channels
        BatchNormKernels.moments(x.data, samples: 0..<n, channels: channels, spatial: hw, mean: means, variance: variances)
        for c in 0..<channels {
            let mean = means[c], variance = variances[c]
            let sigmaB = (variance + Double(eps)).squareRoot()
            let sigma = (Double(runningVar.data[c]) + Double(eps)).squareRoot()
            let r = Float(min(max(sigmaB / sigma, 1 / Double(rMax)), Double(rMax)))
            let d = Float(min(max((mean - Double(runningMean.data[c])) / sigma, -Double(dMax)), Double(dMax)))
            let invStd = Float(1 / sigmaB)
            savedMean.data[c] = Float(mean)
            savedInvStd.data[c] = invStd
            lastR.data[c] = r
            lastD.data[c] = d
            // y = gamma * ((x - mean) * invStd * r + d) + beta = x * scale + shift
            scale[c] = invStd * gamma[c] * r
            shift[c] = gamma[c] * d + beta[c] - Float(mean) * scale[c]
            let unbiased = variance * Double(m) / Double(m - 1)
            runningMean.data[c] = (1 - f) * runningMean.data[c] + f * Float(mean)
            runningVar.data[c] = (1 - f) * runningVar.data[c] + f * Float(unbiased)
        }
        BatchNormKernels.affine(x.data, output.data, samples: 0..<n, channels: channels, spatial: hw,
                                scale: scale, shift: shift)
        return output
    }

    /// Train mode, with `r`, `d` constant and `xhat = (x - mean) * invStd`:
    /// `dx = (dy - sum(dy)/m - (x - mean) * invStd^2 * sum((x - mean) dy)/m) * invStd * r * weight`,
    /// `dweight += r * sum(xhat * dy) + d * sum(dy)`, `dbias += sum(dy)`. Eval mode as BatchNorm.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        precondition(dy.shape == x.shape, "\(name): gradient \(dy.shape) does not match input \(x.shape)")
        let n = x.shape.batch, channels = numFeatures, hw = x.shape.spatial
        inputGradient.resize(to: x.shape)
        let gamma = weight.value.data, dGamma = weight.gradient.data, dBeta = bias.gradient.data
        let sum = sums, dot = sums + channels
        let scale = coefficients.data, gradMean = scale + channels
        let projection = scale + 2 * channels, zeroShift = scale + 3 * channels
        if !usedBatchStatistics {
            BatchNormKernels.gradientSums(x.data, dy.data, samples: 0..<n, channels: channels, spatial: hw,
                                          mean: runningMean.data, sum: sum, dot: dot)
            for c in 0..<channels {
                let invStd = Float(1 / (Double(runningVar.data[c]) + Double(eps)).squareRoot())
                dGamma[c] += Float(dot[c]) * invStd
                dBeta[c] += Float(sum[c])
                scale[c] = invStd * gamma[c]
                zeroShift[c] = 0
            }
            BatchNormKernels.affine(dy.data, inputGradient.data, samples: 0..<n, channels: channels, spatial: hw,
                                    scale: scale, shift: zeroShift)
            return inputGradient
        }
        let m = Float(n * hw)
        let mean = savedMean.data, invStd = savedInvStd.data
        BatchNormKernels.gradientSums(x.data, dy.data, samples: 0..<n, channels: channels, spatial: hw,
                                      mean: mean, sum: sum, dot: dot)
        for c in 0..<channels {
            let r = lastR.data[c], d = lastD.data[c]
            dGamma[c] += r * Float(dot[c]) * invStd[c] + d * Float(sum[c])
            dBeta[c] += Float(sum[c])
            gradMean[c] = Float(sum[c]) / m
            projection[c] = Float(dot[c]) * invStd[c] * invStd[c] / m
            scale[c] = invStd[c] * r * gamma[c]
        }
        BatchNormKernels.inputGradient(x.data, dy.data, inputGradient.data, samples: 0..<n, channels: channels,
                                       spatial: hw, mean: mean, gradMean: gradMean, projection: projection, scale: scale)
        return inputGradient
    }
}
