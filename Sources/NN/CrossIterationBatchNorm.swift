import TensorCore

/// Cross-Iteration Batch Normalization (Yao et al., CVPR 2021, "Cross-Iteration Batch
/// Normalization"), exactly as the authors' `CBatchNorm2d` in Howal/Cross-iterationBatchNorm
/// `mmdet/models/utils/CBN.py` (defaults `out_p=False`, `FROZEN=False`, `track_running_stats=True`).
///
/// It needs the preceding conv's weight and input columns, so it runs only inside
/// ``ConvCrossIterationBatchNorm``, which passes its conv explicitly to
/// ``forward(_:mode:conv:)`` (as mmdet's ResNet calls `self.norm1(out, self.conv1.weight)`); its
/// own ``Layer/forward(_:mode:)`` refuses. No other state is shared.
///
/// Legend: `y (N, C, H, W)` the conv output, `m = N*H*W`; `W (C, CKK)` the conv weight, `cols (CKK, m)`
/// its im2col columns; `t` = ``iterations`` (counted only when `burnin > 0`, as the code does).
/// Train mode, per channel `c`:
/// - the buffer size: with `burnin > 0`, `t += 1`; two-stage (default): `k = buffer` when `t > burnin`,
///   else 0; otherwise the linear ramp `k = floor(buffer * min(t / burnin, 1))`; with `burnin = 0`, `k = buffer`;
/// - `k = 0`: `mu = mean(y)`, `sigma2 = sum (y - mu)^2 / (m - 1)` (UNBIASED, torch's `var`);
/// - `k > 0`: current `mu_0 = mean(y)`, `meanx2_0 = mean(y^2)`, and for each of the (at most k) stored
///   past iterations `i`, compensated to the current weight by a first-order Taylor step with
///   everything past detached (`W` read as `weight.data`): `mu_i = pre_mu_i + rho * sum_k
///   dmudw_i[c, k] (W[c, k] - W_i[c, k])`, `meanx2_i` likewise, where `dmudw[c, k] = sum_{n,p}
///   cols[k, (n, p)] / m` and `dmeanx2dw[c, k] = 2 * sum_{n,p} y[c, (n, p)] cols[k, (n, p)] / m`
///   (the code's `autograd.grad` of the summed statistics with respect to the conv weight);
///   entries with `meanx2_i - mu_i^2 < 0` are dropped (the current one too), `count` = the rest,
///   `mu = sum mu_i / count`, `sigma2 = sum meanx2_i / count - mu^2`; then the current statistics,
///   derivatives and weight are stored first, the oldest beyond k dropped;
/// - `y_out = weight * (y - mu) / (sqrt(sigma2) + eps) + bias` (eps OUTSIDE the root: `out_p=False`);
/// - `running_mean = (1 - momentum) * running_mean + momentum * mean(y)`, `running_var` likewise with
///   the current batch's UNBIASED variance (never the compensated statistics).
/// Backward: the gradient of this forward with the past statistics held fixed (only the current
/// `mu_0`, `meanx2_0`, or the burn-in statistics, depend on `y`), as autograd gives it.
/// Eval mode: `y_out = weight * (y - running_mean) / (sqrt(running_var) + eps) + bias`.
/// Init: `weight = 1`, `bias = 0` (mmdet's `constant_init(norm, 1, bias=0)`), `running_mean = 0`,
/// `running_var = 1`, no history.
///
/// Forward keeps a reference to `y` and, per channel, `mu`, `sigma2` and the weight `a` of the current
/// statistics in them (`1/count` or 0; burn-in: the unbiased form), for backward.
public final class CrossIterationBatchNorm: CrossIterationNormalization {
    /// CBN.py's `buffer_num`, `burnin`, `rho` and `two_stage`.
    public struct Settings: Hashable, Sendable {
        /// `buffer_num`: past iterations whose compensated statistics join the current ones.
        public var bufferSize: Int
        /// `burnin`: train iterations (counted by the layer) before the compensation starts; the
        /// authors' config gives it in epochs, which their train.py converts to iterations.
        public var burnin: Int
        /// `rho`: the factor of the Taylor step.
        public var rho: Float
        /// `two_stage`: on, no compensation until `burnin`, then all of it; off, the buffer grows linearly.
        public var twoStage: Bool

        /// The defaults: the authors' config `CBN buffer_num=3`; the layer's `burnin=0`, `rho=1.0`, `two_stage=True`.
        public init(bufferSize: Int = 3, burnin: Int = 0, rho: Float = 1, twoStage: Bool = true) {
            self.bufferSize = bufferSize; self.burnin = burnin; self.rho = rho; self.twoStage = twoStage
        }
    }

    /// One past iteration: its statistics, their weight derivatives and the weight they were taken at.
    private struct Past {
        var mean: [Float]
        var squareMean: [Float]
        var dMean: Tensor
        var dSquareMean: Tensor
        var weight: Tensor

        func copy() -> Past {
            Past(mean: mean, squareMean: squareMean, dMean: dMean.copy(), dSquareMean: dSquareMean.copy(),
                 weight: weight.copy())
        }
    }

    public let numFeatures: Int
    public let eps: Float
    /// PyTorch's meaning: `running = (1 - momentum) * running + momentum * batch`.
    public let momentum: Float
    public let settings: Settings
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Tensor
    /// The current batches' UNBIASED variances, averaged.
    public let runningVar: Tensor
    /// The code's `iter_count`.
    public private(set) var iterations = 0
    /// The code's `buffer_num` at the last train pass.
    public private(set) var currentBufferSize: Int
    private var history: [Past] = []
    /// How many past iterations the history holds.
    public var historyCount: Int { history.count }

    private var input: Tensor?
    private var usedBatchStatistics = false
    private var unbiased = false
    private var mean: [Float] = []
    private var variance: [Float] = []
    private var currentWeight: [Float] = []
    private let output = Tensor()
    private let inputGradient = Tensor()
    private let columnSums = Tensor()
    private let products = Tensor()

    public init(_ numFeatures: Int, eps: Float = 1e-5, momentum: Float = 0.1, settings: Settings = Settings()) {
        precondition(numFeatures > 0 && eps > 0 && momentum >= 0 && momentum <= 1 && settings.bufferSize >= 0
                     && settings.burnin >= 0,
                     "CrossIterationBatchNorm(\(numFeatures), eps \(eps), momentum \(momentum), \(settings)): bad configuration")
        self.numFeatures = numFeatures; self.eps = eps; self.momentum = momentum; self.settings = settings
        (weight, bias) = Parameter.normalizationAffine(count: numFeatures)
        runningMean = Tensor(Shape(numFeatures))
        runningVar = Tensor(Shape(numFeatures))
        runningVar.fill(1)
        currentBufferSize = settings.bufferSize
    }

    public var name: String {
        "CrossIterationBatchNorm(\(numFeatures), buffer=\(settings.bufferSize), burnin=\(settings.burnin), rho=\(settings.rho))"
    }
    public var parameters: [Parameter] { [weight, bias] }

    public func clone() -> CrossIterationBatchNorm {
        let c = CrossIterationBatchNorm(numFeatures, eps: eps, momentum: momentum, settings: settings)
        c.weight.value.assign(weight.value); c.bias.value.assign(bias.value)
        c.runningMean.assign(runningMean); c.runningVar.assign(runningVar)
        c.iterations = iterations; c.currentBufferSize = currentBufferSize
        c.history = history.map { $0.copy() }
        return c
    }

    /// Refuses: the layer needs its conv (``forward(_:mode:conv:)``, through ``ConvCrossIterationBatchNorm``).
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        throw LayerError(layer: name, "needs the preceding conv's weight and columns: it runs inside ConvCrossIterationBatchNorm")
    }

    /// The code's `_update_buffer_num`.
    private func updateBufferSize() {
        if settings.twoStage {
            currentBufferSize = iterations > settings.burnin ? settings.bufferSize : 0
        } else {
            currentBufferSize = Int(Double(settings.bufferSize) * min(Double(iterations) / Double(settings.burnin), 1))
        }
    }

    /// `y` is `conv`'s output of its last forward (see the type's summary).
    public func forward(_ y: Tensor, mode: Mode, conv: Conv2d) throws -> Tensor {
        guard y.shape.rank == 4, y.shape.channels == numFeatures, y.shape.channels == conv.outChannels else {
            throw LayerError(layer: name, "expected input (N, \(numFeatures), H, W) from a conv with \(numFeatures) outputs,"
                             + " got \(y.shape) from \(conv.name)")
        }
        let n = y.shape.batch, channels = numFeatures, hw = y.shape.spatial, m = n * hw
        input = y
        output.resize(to: y.shape)
        if mode.normalization == .trainWithoutUpdate { throw trainWithoutUpdateError(layer: name) }
        guard mode.normalization == .train else {
            usedBatchStatistics = false
            for c in 0..<channels {
                let d = runningVar.data[c].squareRoot() + eps
                ChannelMoments.affine(y.data, output.data, samples: 0..<n, channel: c, channels: channels, spatial: hw,
                                      scale: weight.value.data[c] / d, shift: bias.value.data[c] - runningMean.data[c] * weight.value.data[c] / d)
            }
            return output
        }
        if m <= 1 { throw singleValueError(layer: name, shape: y.shape) }
        if settings.burnin > 0 {
            iterations += 1
            updateBufferSize()
        }
        usedBatchStatistics = true
        var currentMean = [Float](repeating: 0, count: channels), currentSquareMean = currentMean, unbiasedVariance = currentMean
        for c in 0..<channels {
            let (mu, biased) = ChannelMoments.meanAndVariance(y.data, samples: 0..<n, channel: c, channels: channels, spatial: hw)
            currentMean[c] = Float(mu)
            currentSquareMean[c] = Float(biased + mu * mu)
            unbiasedVariance[c] = Float(biased * Double(m) / Double(m - 1))
        }
        currentWeight = Array(repeating: 0, count: channels)
        if currentBufferSize > 0 {
            unbiased = false
            compensatedStatistics(y, conv: conv, currentMean: currentMean, currentSquareMean: currentSquareMean)
        } else {
            unbiased = true
            mean = currentMean
            variance = unbiasedVariance
        }
        for c in 0..<channels {
            runningMean.data[c] = (1 - momentum) * runningMean.data[c] + momentum * currentMean[c]
            runningVar.data[c] = (1 - momentum) * runningVar.data[c] + momentum * unbiasedVariance[c]
            let d = variance[c].squareRoot() + eps
            ChannelMoments.affine(y.data, output.data, samples: 0..<n, channel: c, channels: channels, spatial: hw,
                                  scale: weight.value.data[c] / d, shift: bias.value.data[c] - mean[c] * weight.value.data[c] / d)
        }
        return output
    }

    /// The compensated `mean`, `variance` and the current statistics' weight, then the history update.
    private func compensatedStatistics(_ y: Tensor, conv: Conv2d, currentMean: [Float], currentSquareMean: [Float]) {
        let channels = numFeatures, m = Float(y.shape.batch * y.shape.spatial)
        conv.positionSums(of: y, columnSums: columnSums, products: products)
        let ckk = columnSums.count, w = conv.weight.value
        let dMean = Tensor(Shape(channels, ckk)), dSquareMean = Tensor(Shape(channels, ckk))
        for c in 0..<channels {
            for k in 0..<ckk {
                dMean.data[c * ckk + k] = columnSums.data[k] / m
                dSquareMean.data[c * ckk + k] = 2 * products.data[c * ckk + k] / m
            }
        }
        mean = Array(repeating: 0, count: channels)
        variance = mean
        for c in 0..<channels {
            var entries = [(currentMean[c], currentSquareMean[c])]
            for past in history {
                var stepMean = 0.0, stepSquare = 0.0
                for k in 0..<ckk {
                    let delta = Double(settings.rho) * Double(w.data[c * ckk + k] - past.weight.data[c * ckk + k])
                    stepMean += Double(past.dMean.data[c * ckk + k]) * delta
                    stepSquare += Double(past.dSquareMean.data[c * ckk + k]) * delta
                }
                entries.append((past.mean[c] + Float(stepMean), past.squareMean[c] + Float(stepSquare)))
            }
            var sumMean: Float = 0, sumSquare: Float = 0, count: Float = 0
            for (i, (mu, square)) in entries.enumerated() where square - mu * mu >= 0 {
                sumMean += mu; sumSquare += square; count += 1
                if i == 0 { currentWeight[c] = 1 }
            }
            mean[c] = sumMean / count
            variance[c] = sumSquare / count - mean[c] * mean[c]
            currentWeight[c] /= count
        }
        let past = Past(mean: currentMean, squareMean: currentSquareMean, dMean: dMean, dSquareMean: dSquareMean,
                        weight: w.copy())
        history = Array(([past] + history).prefix(currentBufferSize))
    }

    /// With `g = dy * weight`, `s = sqrt(sigma2)`, `D = s + eps`, per channel:
    /// `dL/dsigma2 = -sum(g (y - mu)) / (2 s D^2)`; burn-in (unbiased):
    /// `dy_in = g / D - sum(g) / (m D) + dL/dsigma2 * 2 (y - mu) / (m - 1)`; compensated, with `a` the
    /// current statistics' weight: `dy_in = g / D + a / m * (-sum(g) / D - 2 mu dL/dsigma2) + 2 a / m * dL/dsigma2 * y`.
    /// Both: `dweight += sum(dy (y - mu)) / D`, `dbias += sum(dy)`. Eval: `dy_in = g / (sqrt(running_var) + eps)`.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let y = input else { preconditionFailure("\(name): backward before forward") }
        precondition(dy.shape == y.shape, "\(name): gradient \(dy.shape) does not match input \(y.shape)")
        let n = y.shape.batch, channels = numFeatures, hw = y.shape.spatial, m = Double(n * hw)
        inputGradient.resize(to: y.shape)
        let gamma = weight.value.data, dGamma = weight.gradient.data, dBeta = bias.gradient.data
        for c in 0..<channels {
            let mu = usedBatchStatistics ? mean[c] : runningMean.data[c]
            let s = Double(usedBatchStatistics ? variance[c] : runningVar.data[c]).squareRoot()
            let d = s + Double(eps)
            let (sum, dot) = ChannelMoments.gradientSums(y.data, dy.data, samples: 0..<n, channel: c, channels: channels,
                                                         spatial: hw, mean: mu)
            dGamma[c] += Float(dot / d)
            dBeta[c] += Float(sum)
            let g = Double(gamma[c])
            var c0 = 0.0, c1 = 0.0
            if usedBatchStatistics {
                let dVariance = -g * dot / (2 * s * d * d)
                if unbiased {
                    c1 = 2 * dVariance / (m - 1)
                    c0 = -g * sum / (m * d) - c1 * Double(mu)
                } else {
                    let a = Double(currentWeight[c])
                    c1 = 2 * a * dVariance / m
                    c0 = a * (-g * sum / d - 2 * Double(mu) * dVariance) / m
                }
            }
            let scale = Float(g / d), shift = Float(c0), slope = Float(c1)
            for s in 0..<n {
                let offset = (s * channels + c) * hw
                let ys = y.data + offset, gs = dy.data + offset, dx = inputGradient.data + offset
                for i in 0..<hw { dx[i] = gs[i] * scale + shift + slope * ys[i] }
            }
        }
        return inputGradient
    }
}

extension CrossIterationBatchNorm: BufferedLayer {
    /// CBatchNorm2d's buffers: `running_mean (C)`, `running_var (C)` (no `num_batches_tracked`: it is
    /// an `nn.Module`, not a `_BatchNorm`; its history and `iter_count` are Python attributes, outside
    /// the state dict, as here).
    public var buffers: [LayerBuffer] {
        [LayerBuffer("running_mean", shape: [numFeatures], runningMean),
         LayerBuffer("running_var", shape: [numFeatures], runningVar)]
    }
}
