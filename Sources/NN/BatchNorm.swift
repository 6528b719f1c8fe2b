import TensorCore

/// Batch Normalization (Ioffe & Szegedy 2015) with PyTorch's semantics, over
/// features `(N, C)` (`nn.BatchNorm1d`) or channels `(N, C, H, W)` (`nn.BatchNorm2d`).
///
/// Legend: `m = N*H*W` values per channel (per ghost batch with Ghost BN).
/// - Batch statistics (mode.normalization == .train, or `trackRunningStats == false`):
///   `mean = sum x / m`, `var = sum (x - mean)^2 / m` (BIASED), `invStd = 1 / sqrt(var + eps)`,
///   `y = (x - mean) * invStd * weight + bias`.
/// - Running update (mode.normalization == .train and `trackRunningStats`), per batch:
///   `num_batches_tracked += 1`, `f = momentum.factor(t)`,
///   `running_mean = (1 - f) * running_mean + f * mean`,
///   `running_var  = (1 - f) * running_var  + f * var * m / (m - 1)` (UNBIASED).
/// - Eval with `trackRunningStats`: `y = (x - running_mean) / sqrt(running_var + eps) * weight + bias`.
/// - Batch statistics over `m == 1` value per channel throw PyTorch's error
///   ("Expected more than 1 value per channel when training"); batch 1 with
///   `H*W > 1` trains, normalizing each image by its own statistics.
/// - Ghost BatchNorm (Hoffer et al. 2017): with `ghostBatchSize = g`, the batch is cut
///   into consecutive chunks of `g` samples (the last may be smaller), each normalized
///   with its own statistics and each updating the running statistics once, as
///   PyTorch code that calls `F.batch_norm` per `x.chunk(...)` does.
/// Init: `weight = 1`, `bias = 0`, `running_mean = 0`, `running_var = 1`.
///
/// Forward keeps a reference to `x` and, per chunk and channel, `mean` and `invStd`
/// (`(chunks, C)` buffers); backward recomputes `x - mean` from them. The loops run over
/// all channels at once (``BatchNormKernels``: Float within a plane, Double across planes).
public final class BatchNorm: RunningStatisticsLayer {
    public let numFeatures: Int
    public let eps: Float
    public var momentum: BNMomentum
    public let trackRunningStats: Bool
    public var ghostBatchSize: Int? {
        didSet { precondition((ghostBatchSize ?? 1) >= 1, "ghost batch size must be >= 1") }
    }
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Tensor
    public let runningVar: Tensor
    public var numBatchesTracked: Int = 0
    public private(set) var lastValuesPerChannel: Int = 0

    private var input: Tensor?
    private var usedBatchStatistics = false
    private var chunkSize = 1
    private let savedMean = Tensor()
    private let savedInvStd = Tensor()
    private let output = Tensor()
    private let inputGradient = Tensor()
    /// Per-channel workspace: Double sums `(2, C)` and Float coefficients `(4, C)`, see ``BatchNormKernels``.
    private let sums: UnsafeMutablePointer<Double>
    private let coefficients: Tensor

    public init(_ numFeatures: Int, eps: Float = 1e-5, momentum: BNMomentum = .exponential(0.1),
                trackRunningStats: Bool = true, ghostBatchSize: Int? = nil) {
        precondition(numFeatures > 0, "BatchNorm: numFeatures must be positive, got \(numFeatures)")
        precondition(eps > 0, "BatchNorm: eps must be positive, got \(eps)")
        if case .exponential(let m) = momentum { precondition(m >= 0 && m <= 1, "BatchNorm: momentum must be in [0, 1], got \(m)") }
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
        self.trackRunningStats = trackRunningStats
        self.ghostBatchSize = ghostBatchSize
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

    public var name: String { "BatchNorm(\(numFeatures), momentum=\(momentum)\(ghostBatchSize.map { ", ghost=\($0)" } ?? ""))" }
    public var parameters: [Parameter] { [weight, bias] }

    public func clone() -> BatchNorm {
        let c = BatchNorm(numFeatures, eps: eps, momentum: momentum, trackRunningStats: trackRunningStats,
                          ghostBatchSize: ghostBatchSize)
        c.weight.value.assign(weight.value)
        c.bias.value.assign(bias.value)
        c.runningMean.assign(runningMean)
        c.runningVar.assign(runningVar)
        c.numBatchesTracked = numBatchesTracked
        return c
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard (x.shape.rank == 2 || x.shape.rank == 4), x.shape.channels == numFeatures else {
            throw LayerError(layer: name, "expected input (N, \(numFeatures)) or (N, \(numFeatures), H, W), got \(x.shape)")
        }
        let n = x.shape.batch, channels = numFeatures, hw = x.shape.spatial
        let batchStatistics = mode.normalization == .train || !trackRunningStats
        let updateRunning = mode.normalization == .train && trackRunningStats
        input = x
        usedBatchStatistics = batchStatistics
        output.resize(to: x.shape)
        let gamma = weight.value.data, beta = bias.value.data
        let scale = coefficients.data, shift = coefficients.data + channels

        guard batchStatistics else {
            for c in 0..<channels {
                let invStd = Float(1 / (Double(runningVar.data[c]) + Double(eps)).squareRoot())
                scale[c] = invStd * gamma[c]
                shift[c] = beta[c] - runningMean.data[c] * scale[c]
            }
            BatchNormKernels.affine(x.data, output.data, samples: 0..<n, channels: channels, spatial: hw,
                                    scale: scale, shift: shift)
            return output
        }

        chunkSize = max(1, min(ghostBatchSize ?? n, n))  // >= 1: backward divides by it, also for N = 0
        let chunks = n == 0 ? 0 : (n + chunkSize - 1) / chunkSize
        for k in 0..<chunks where min(chunkSize, n - k * chunkSize) * hw <= 1 {
            throw singleValueError(layer: name, shape: x.shape.withBatch(min(chunkSize, n - k * chunkSize)))
        }
        savedMean.resize(to: Shape(chunks, channels))
        savedInvStd.resize(to: Shape(chunks, channels))
        let means = sums, variances = sums + channels
        for k in 0..<chunks {
            let samples = (k * chunkSize)..<min(n, (k + 1) * chunkSize)
            let m = samples.count * hw
            lastValuesPerChannel = m
            if updateRunning { numBatchesTracked += 1 }
            let f = momentum.factor(batchesTracked: max(numBatchesTracked, 1))
            BatchNormKernels.moments(x.data, samples: samples, channels: channels, spatial: hw,
                                     mean: means, variance: variances)
            for c in 0..<channels {
                let mean = means[c], variance = variances[c]
                let invStd = Float(1 / (variance + Double(eps)).squareRoot())
                savedMean.data[k * channels + c] = Float(mean)
                savedInvStd.data[k * channels + c] = invStd
                scale[c] = invStd * gamma[c]
                shift[c] = beta[c] - Float(mean) * scale[c]
                if updateRunning {
                    let unbiased = variance * Double(m) / Double(m - 1)
                    runningMean.data[c] = (1 - f) * runningMean.data[c] + f * Float(mean)
                    runningVar.data[c] = (1 - f) * runningVar.data[c] + f * Float(unbiased)
                }
            }
            BatchNormKernels.affine(x.data, output.data, samples: samples, channels: channels, spatial: hw,
                                    scale: scale, shift: shift)
        }
        return output
    }

    /// Batch statistics (per chunk and channel, `m` values):
    /// `dx = (dy - sum(dy)/m - (x - mean) * invStd^2 * sum((x - mean) dy)/m) * invStd * weight`;
    /// running statistics: `dx = dy * weight / sqrt(running_var + eps)`.
    /// Both: `dweight += sum((x - mean) * invStd * dy)`, `dbias += sum(dy)`.
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
        let chunks = (n + chunkSize - 1) / chunkSize
        for k in 0..<chunks {
            let samples = (k * chunkSize)..<min(n, (k + 1) * chunkSize)
            let m = Float(samples.count * hw)
            let mean = savedMean.data + k * channels, invStd = savedInvStd.data + k * channels
            BatchNormKernels.gradientSums(x.data, dy.data, samples: samples, channels: channels, spatial: hw,
                                          mean: mean, sum: sum, dot: dot)
            for c in 0..<channels {
                dGamma[c] += Float(dot[c]) * invStd[c]
                dBeta[c] += Float(sum[c])
                gradMean[c] = Float(sum[c]) / m
                projection[c] = Float(dot[c]) * invStd[c] * invStd[c] / m
                scale[c] = invStd[c] * gamma[c]
            }
            BatchNormKernels.inputGradient(x.data, dy.data, inputGradient.data, samples: samples, channels: channels,
                                           spatial: hw, mean: mean, gradMean: gradMean, projection: projection,
                                           scale: scale)
        }
        return inputGradient
    }
}
