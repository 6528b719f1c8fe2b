import TensorCore

/// Moving Average Batch Normalization (Yan et al., ICLR 2020, "Towards Stabilizing Batch Statistics
/// in Backward Propagation of Batch Normalization"), exactly as the authors' `MABN2d` and
/// `BatchNormFunction` in megvii-model/MABN `MABN.py`. Used after a centred conv
/// (``Conv2d/centredWeights``, the file's `CenConv2d`), which the model recipe builds for it.
///
/// Legend: `x (N, C, H, W)`, `m = N*H*W` values per channel, `B` = ``bufferSize`` (the code's
/// `real_B // B`), `t` = ``iterations`` after this pass's increment (1 at the first train pass).
/// There is no mean subtraction. Train mode, per channel:
/// - `x2 = sum x^2 / m`; `buffer_x2[t % B] = x2`;
/// - `var = x2` when `t <= B` or `t < warmup`, else `var = mean over the B rows of buffer_x2`
///   (a simple moving average of E[x^2] over the last B iterations);
/// - `z = x / sqrt(var + eps)`; `r = sqrt(var + eps) / sqrt(running_var + eps)` (running_var BEFORE
///   this pass's update), `r = 1` while `t <= max(1000, warmup)`, else `r = clamp(r, 1/5, 5)`;
/// - `y = weight * r * z + bias`;
/// - `running_var = momentum * running_var + (1 - momentum) * var` with the code's momentum 0.98:
///   `momentum` weights the OLD value (Keras's convention, the opposite of ``BNMomentum``).
/// Backward (the code's, NOT the gradient of this forward: `var` and `r` are constants and the
/// gradient statistic is averaged over iterations):
/// - `g = dy * weight * r`, `gz = sum(g * z) / m`; `buffer_gz[t % B] = gz`;
/// - `mean_gz = gz` when `t <= B` or `t < warmup`, else the mean over the B rows of buffer_gz;
/// - `dx = (g - z * mean_gz) / sqrt(var + eps)`, `dweight += sum(dy * r * z)`, `dbias += sum(dy)`.
/// While `var = x2` and `r = 1` (the first `max(B, warmup - 1)` passes, and every pass up to
/// `max(1000, warmup)` with `B = 1`) that is the true gradient of `y = weight * x / sqrt(x2 + eps) + bias`.
/// Eval mode: `y = weight * x / sqrt(running_var + eps) + bias`, backward its true gradient.
/// Init: `weight = 1`, `bias = 0`, `running_var = 1`, `iters = 0`, both buffers 0.
///
/// Forward keeps a reference to `x` and, per channel, `var`, `r` (train) for backward; the pass
/// number `t` of the forward is what backward writes `buffer_gz` at.
public final class MovingAverageBatchNorm: CrossIterationNormalization {
    /// MABN.py's default `momentum` (weight of the OLD running value).
    public static let codeMomentum: Float = 0.98
    /// The iterations with `r = 1` at least: MABN.py's `max(1000, warmup_iters)`.
    public static let renormalizationStart = 1000
    /// `r` in `[1 / rLimit, rLimit]` after that: MABN.py's `torch.clamp(r, 1/5, 5)`.
    public static let rLimit: Float = 5

    public let numFeatures: Int
    public let eps: Float
    /// `running_var = momentum * running_var + (1 - momentum) * var` (the code's meaning).
    public let momentum: Float
    /// `B`, the iterations in the moving averages (MABN2d's `real_B // B`).
    public let bufferSize: Int
    /// MABN2d's `warmup_iters`: passes `t < warmup` normalize with the batch's own `x2`.
    public let warmupIterations: Int
    public let weight: Parameter
    public let bias: Parameter
    /// `(C)`; PyTorch's buffer is `(1, C, 1, 1)`, the same values.
    public let runningVar: Tensor
    /// `(B, C)`: `x2` of the last B train passes, row `t % B`.
    public let bufferX2: Tensor
    /// `(B, C)`: `gz` of the last B backward passes, row `t % B`.
    public let bufferGZ: Tensor
    /// The code's `iters`: train-mode passes so far (settable to restore a state, as the state dict does).
    public var iterations = 0

    private var input: Tensor?
    private var trainedPass: Int?  // t of the last forward, nil for an eval-mode forward
    /// `(C)` each: the `var` and `r` the last train forward used.
    public let lastVariance = Tensor()
    public let lastR = Tensor()
    private let output = Tensor()
    private let inputGradient = Tensor()

    public init(_ numFeatures: Int, eps: Float = 1e-5, momentum: Float = MovingAverageBatchNorm.codeMomentum,
                bufferSize: Int = 16, warmupIterations: Int = 100) {
        precondition(numFeatures > 0 && eps > 0 && bufferSize >= 1 && warmupIterations >= 0 && momentum >= 0 && momentum <= 1,
                     "MovingAverageBatchNorm(\(numFeatures), eps \(eps), momentum \(momentum), buffer \(bufferSize),"
                     + " warmup \(warmupIterations)): bad configuration")
        self.numFeatures = numFeatures; self.eps = eps; self.momentum = momentum
        self.bufferSize = bufferSize; self.warmupIterations = warmupIterations
        (weight, bias) = Parameter.normalizationAffine(count: numFeatures)
        runningVar = Tensor(Shape(numFeatures))
        runningVar.fill(1)
        bufferX2 = Tensor(Shape(bufferSize, numFeatures))
        bufferGZ = Tensor(Shape(bufferSize, numFeatures))
    }

    public var name: String { "MovingAverageBatchNorm(\(numFeatures), buffer=\(bufferSize), warmup=\(warmupIterations))" }
    public var parameters: [Parameter] { [weight, bias] }

    public func clone() -> MovingAverageBatchNorm {
        let c = MovingAverageBatchNorm(numFeatures, eps: eps, momentum: momentum, bufferSize: bufferSize,
                                       warmupIterations: warmupIterations)
        c.weight.value.assign(weight.value); c.bias.value.assign(bias.value)
        c.runningVar.assign(runningVar); c.bufferX2.assign(bufferX2); c.bufferGZ.assign(bufferGZ)
        c.iterations = iterations
        return c
    }

    /// Whether pass `t` uses its own batch's statistics rather than the moving averages.
    private func usesBatchStatistics(atPass t: Int) -> Bool { t <= bufferSize || t < warmupIterations }

    /// Per channel, the mean over the B rows of `buffer` (in Double, rounded once).
    private func bufferMean(_ buffer: Tensor, channel c: Int) -> Float {
        var sum = 0.0
        for row in 0..<bufferSize { sum += Double(buffer.data[row * numFeatures + c]) }
        return Float(sum / Double(bufferSize))
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.shape.rank == 4, x.shape.channels == numFeatures else {
            throw LayerError(layer: name, "expected input (N, \(numFeatures), H, W) (MABN2d is 2-d only), got \(x.shape)")
        }
        let n = x.shape.batch, channels = numFeatures, hw = x.shape.spatial
        input = x
        output.resize(to: x.shape)
        let gamma = weight.value.data, beta = bias.value.data
        if mode.normalization == .trainWithoutUpdate { throw trainWithoutUpdateError(layer: name) }
        guard mode.normalization == .train else {
            trainedPass = nil
            for c in 0..<channels {
                let scale = gamma[c] / (runningVar.data[c] + eps).squareRoot()
                ChannelMoments.affine(x.data, output.data, samples: 0..<n, channel: c, channels: channels, spatial: hw,
                                      scale: scale, shift: beta[c])
            }
            return output
        }
        iterations += 1
        let t = iterations
        trainedPass = t
        lastVariance.resize(to: Shape(channels))
        lastR.resize(to: Shape(channels))
        let m = Double(n * hw), row = t % bufferSize
        for c in 0..<channels {
            var squares = 0.0
            for s in 0..<n {
                let plane = x.data + (s * channels + c) * hw
                for i in 0..<hw { squares += Double(plane[i]) * Double(plane[i]) }
            }
            bufferX2.data[row * channels + c] = Float(squares / m)
        }
        for c in 0..<channels {
            let x2 = bufferX2.data[row * channels + c]
            let variance = usesBatchStatistics(atPass: t) ? x2 : bufferMean(bufferX2, channel: c)
            let std = (variance + eps).squareRoot()
            var r = std / (runningVar.data[c] + eps).squareRoot()
            r = t <= max(Self.renormalizationStart, warmupIterations) ? 1 : min(max(r, 1 / Self.rLimit), Self.rLimit)
            lastVariance.data[c] = variance
            lastR.data[c] = r
            runningVar.data[c] = momentum * runningVar.data[c] + (1 - momentum) * variance
            ChannelMoments.affine(x.data, output.data, samples: 0..<n, channel: c, channels: channels, spatial: hw,
                                  scale: gamma[c] * r / std, shift: beta[c])
        }
        return output
    }

    /// Train mode (the code's backward, see the type's summary), per channel with `std = sqrt(var + eps)`:
    /// `g = dy * weight * r`, `gz = sum(g z) / m` into `buffer_gz[t % B]`,
    /// `dx = (g - z * mean_gz) / std`, `dweight += r * sum(dy z)`, `dbias += sum(dy)`.
    /// Eval mode: `dx = dy * weight / sqrt(running_var + eps)`, `dweight += sum(dy x) / sqrt(running_var + eps)`.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        precondition(dy.shape == x.shape, "\(name): gradient \(dy.shape) does not match input \(x.shape)")
        let n = x.shape.batch, channels = numFeatures, hw = x.shape.spatial
        let m = Double(n * hw)
        inputGradient.resize(to: x.shape)
        let gamma = weight.value.data, dGamma = weight.gradient.data, dBeta = bias.gradient.data
        for c in 0..<channels {
            let std: Float, r: Float
            if trainedPass != nil { std = (lastVariance.data[c] + eps).squareRoot(); r = lastR.data[c] }
            else { std = (runningVar.data[c] + eps).squareRoot(); r = 1 }
            let (sum, dot) = ChannelMoments.gradientSums(x.data, dy.data, samples: 0..<n, channel: c, channels: channels,
                                                         spatial: hw, mean: 0)
            // sum(dy z) = sum(dy x) / std
            dGamma[c] += r * Float(dot) / std
            dBeta[c] += Float(sum)
            guard let t = trainedPass else {
                ChannelMoments.affine(dy.data, inputGradient.data, samples: 0..<n, channel: c, channels: channels,
                                      spatial: hw, scale: gamma[c] / std, shift: 0)
                continue
            }
            // gz = sum(g z) / m = weight * r * sum(dy x) / (std * m)
            let gz = Float(Double(gamma[c] * r) * dot / Double(std) / m)
            bufferGZ.data[(t % bufferSize) * channels + c] = gz
            let meanGZ = usesBatchStatistics(atPass: t) ? gz : bufferMean(bufferGZ, channel: c)
            // dx = (dy * weight * r - x / std * meanGZ) / std
            let gScale = gamma[c] * r / std, xScale = meanGZ / (std * std)
            for s in 0..<n {
                let offset = (s * channels + c) * hw
                let xs = x.data + offset, g = dy.data + offset, dx = inputGradient.data + offset
                for i in 0..<hw { dx[i] = g[i] * gScale - xs[i] * xScale }
            }
        }
        return inputGradient
    }
}

extension MovingAverageBatchNorm: BufferedLayer {
    /// MABN2d's buffers in registration order: `running_var (1, C, 1, 1)`, `iters (1)` (I64),
    /// `buffer_x2 (B, C)`, `buffer_gz (B, C)`.
    public var buffers: [LayerBuffer] {
        [LayerBuffer("running_var", shape: [1, numFeatures, 1, 1], runningVar),
         LayerBuffer("iters", shape: [1], get: { [unowned self] in iterations }, set: { [unowned self] in iterations = $0 }),
         LayerBuffer("buffer_x2", shape: [bufferSize, numFeatures], bufferX2),
         LayerBuffer("buffer_gz", shape: [bufferSize, numFeatures], bufferGZ)]
    }
}
