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
/// (`(chunks, C)` buffers); backward recomputes `x - mean` from them.
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
    }

    public var name: String { "BatchNorm(\(numFeatures), momentum=\(momentum)\(ghostBatchSize.map { ", ghost=\($0)" } ?? ""))" }
    public var parameters: [Parameter] { [weight, bias] }

    public func clone() -> Layer {
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

        guard batchStatistics else {
            for c in 0..<channels {
                let invStd = Float(1 / (Double(runningVar.data[c]) + Double(eps)).squareRoot())
                let scale = invStd * gamma[c]
                ChannelMoments.affine(x.data, output.data, samples: 0..<n, channel: c, channels: channels,
                                      spatial: hw, scale: scale, shift: beta[c] - runningMean.data[c] * scale)
            }
            return output
        }

        chunkSize = max(1, min(ghostBatchSize ?? n, n))  // >= 1: backward divides by it, also for N = 0
        let chunks = n == 0 ? 0 : (n + chunkSize - 1) / chunkSize
        for k in 0..<chunks where min(chunkSize, n - k * chunkSize) * hw <= 1 {
            throw singleValueError(layer: name, shape: x.shape.withBatch(min(chunkSize, n - k * chunkSize)))
        }
        savedMean.resize(to: Shape(chunks, channels))
        savedInvStd.resize(to: Shape(chunks, channels))
        for k in 0..<chunks {
            let samples = (k * chunkSize)..<min(n, (k + 1) * chunkSize)
            let m = samples.count * hw
            lastValuesPerChannel = m
            if updateRunning { numBatchesTracked += 1 }
            let f = momentum.factor(batchesTracked: max(numBatchesTracked, 1))
            for c in 0..<channels {
                let (mean, variance) = ChannelMoments.meanAndVariance(x.data, samples: samples, channel: c,
                                                                      channels: channels, spatial: hw)
                let invStd = Float(1 / (variance + Double(eps)).squareRoot())
                savedMean.data[k * channels + c] = Float(mean)
                savedInvStd.data[k * channels + c] = invStd
                let scale = invStd * gamma[c]
                ChannelMoments.affine(x.data, output.data, samples: samples, channel: c, channels: channels,
                                      spatial: hw, scale: scale, shift: beta[c] - Float(mean) * scale)
                if updateRunning {
                    let unbiased = variance * Double(m) / Double(m - 1)
                    runningMean.data[c] = (1 - f) * runningMean.data[c] + f * Float(mean)
                    runningVar.data[c] = (1 - f) * runningVar.data[c] + f * Float(unbiased)
                }
            }
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
        if !usedBatchStatistics {
            for c in 0..<channels {
                let mean = runningMean.data[c]
                let invStd = Float(1 / (Double(runningVar.data[c]) + Double(eps)).squareRoot())
                let (sum, dot) = ChannelMoments.gradientSums(x.data, dy.data, samples: 0..<n, channel: c,
                                                            channels: channels, spatial: hw, mean: mean)
                dGamma[c] += Float(dot) * invStd
                dBeta[c] += Float(sum)
                ChannelMoments.affine(dy.data, inputGradient.data, samples: 0..<n, channel: c, channels: channels,
                                      spatial: hw, scale: invStd * gamma[c], shift: 0)
            }
            return inputGradient
        }
        let chunks = (n + chunkSize - 1) / chunkSize
        for k in 0..<chunks {
            let samples = (k * chunkSize)..<min(n, (k + 1) * chunkSize)
            let m = Float(samples.count * hw)
            for c in 0..<channels {
                let mean = savedMean.data[k * channels + c], invStd = savedInvStd.data[k * channels + c]
                let (sum, dot) = ChannelMoments.gradientSums(x.data, dy.data, samples: samples, channel: c,
                                                            channels: channels, spatial: hw, mean: mean)
                dGamma[c] += Float(dot) * invStd
                dBeta[c] += Float(sum)
                let gradMean = Float(sum) / m
                let projection = Float(dot) * invStd * invStd / m
                let scale = invStd * gamma[c]
                for s in samples {
                    let offset = (s * channels + c) * hw
                    let xs = x.data + offset, g = dy.data + offset, dx = inputGradient.data + offset
                    for i in 0..<hw { dx[i] = (g[i] - gradMean - (xs[i] - mean) * projection) * scale }
                }
            }
        }
        return inputGradient
    }
}
