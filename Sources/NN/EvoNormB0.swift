import TensorCore

/// EvoNorm-B0 (Liu, Brock, Simonyan & Le, NeurIPS 2020, "Evolving Normalization-Activation
/// Layers"), as timm's `EvoNorm2dB0` (`timm/layers/evo_norm.py`, huggingface/pytorch-image-models
/// at aa4b5850c1543fa488abf260f18390eda46cf85d), a normalization-activation layer that keeps a
/// running variance like BatchNorm (and no running mean).
///
/// Shapes: `x (N, C, H, W)` only (timm asserts a 4-D input); `m = N*H*W` values per channel,
/// `HW` per (sample, channel) plane.
/// - Train (`mode.normalization == .train`): `var_c = sum (x - mean_c)^2 / m` over the batch
///   (BIASED, with gradient), and the running update, timm's formula, PyTorch's momentum convention:
///   `running_var = (1 - momentum) * running_var + momentum * var_c * m / (m - 1)` (stores the UNBIASED one).
/// - Train without update (``NormalizationPhase/trainWithoutUpdate``): the batch variance, `running_var` unchanged.
/// - Eval: `var_c = running_var` (unchanged). `.adapted` (BatchNorm's test-time adaptation) throws.
/// - Both: `left_c = sqrt(var_c + eps)`, timm's `instance_std`: `istd = sqrt(var_plane + eps)` (biased
///   variance over the plane's `HW` values), `right = x * v[c] + istd`, `d = max(left_c, right)`
///   elementwise, `y = x / d * weight[c] + bias[c]`.
/// Train mode with `m == 1` throws, as BatchNorm does (timm's `m / (m - 1)` would store a NaN).
/// Init as timm's: `weight = 1`, `bias = 0`, `v = 1`, `running_var = 1`, `eps = 1e-3`, `momentum = 0.1`.
/// timm's momentum is a number (no `momentum=None` average).
/// Without the activation (``appliesActivation`` false, timm's `apply_act=False`) the layer has no
/// `v`, and timm's `forward` then skips the normalization too: `y = x * weight[c] + bias[c]` in every
/// mode (``ChannelAffine``), the `running_var` buffer kept (timm registers it) but never updated.
///
/// Not a ``RunningStatisticsLayer``: that protocol's layers have BatchNorm's running mean, variance
/// and `num_batches_tracked` (``BatchNormCore``), which recalibration re-estimates, the statistics
/// probe measures and the state dict writes; this layer has only `running_var` (its state dict key,
/// as timm's). Recalibration therefore leaves its running variance as training left it.
///
/// Forward keeps a reference to `x`, per channel `left` and the batch mean (train), per plane the
/// mean and `istd`; backward recomputes `right` and `d` from them.
public final class EvoNormB0: NormalizationActivation, BufferedLayer {
    public let channels: Int
    public let eps: Float
    /// PyTorch's convention: the weight of the new batch's variance, in [0, 1].
    public let momentum: Float
    public let weight: Parameter
    public let bias: Parameter
    /// The per-channel scale of `x` in the right-hand term (timm's `v`); nil without the activation.
    public let v: Parameter?
    /// The running variance (unbiased), timm's buffer `running_var`.
    public let runningVar: Tensor

    private var input: Tensor?
    private var usedBatchVariance = false
    private let left = Tensor()
    private let batchMean = Tensor()
    private let planeMean = Tensor()
    private let planeStd = Tensor()
    private let output = Tensor()
    private let inputGradient = Tensor()

    /// `applyActivation` is timm's `apply_act` (default true).
    public init(channels: Int, eps: Float = 1e-3, momentum: Float = 0.1, applyActivation: Bool = true) {
        precondition(channels > 0, "EvoNormB0: channels must be positive, got \(channels)")
        precondition(eps > 0, "EvoNormB0: eps must be positive, got \(eps)")
        precondition(momentum >= 0 && momentum <= 1, "EvoNormB0: momentum must be in [0, 1], got \(momentum)")
        self.channels = channels
        self.eps = eps
        self.momentum = momentum
        (weight, bias) = Parameter.normalizationAffine(count: channels)
        v = applyActivation ? Parameter(name: "v", value: Tensor(Shape(channels))) : nil
        v?.value.fill(1)
        runningVar = Tensor(Shape(channels))
        runningVar.fill(1)
    }

    public var appliesActivation: Bool { v != nil }
    public var name: String { "EvoNormB0(\(channels), momentum=\(momentum)\(appliesActivation ? "" : ", apply_act=False"))" }
    /// In timm's `state_dict` order: `weight`, `bias`, `v` (then the buffer `running_var`); without the
    /// activation `weight`, `bias`.
    public var parameters: [Parameter] { [weight, bias] + [v].compactMap { $0 } }

    /// timm's buffer: `running_var`, `(C)`.
    public var buffers: [LayerBuffer] { [LayerBuffer("running_var", shape: [channels], runningVar)] }

    public func clone() -> EvoNormB0 {
        let c = EvoNormB0(channels: channels, eps: eps, momentum: momentum, applyActivation: appliesActivation)
        for (mine, theirs) in zip(c.parameters, parameters) { mine.value.assign(theirs.value) }
        c.runningVar.assign(runningVar)
        return c
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.shape.rank == 4, x.shape.channels == channels else {
            throw LayerError(layer: name, "expected input (N, \(channels), H, W) (timm's EvoNorm2dB0 is 2-d only), got \(x.shape)")
        }
        guard let v else {
            input = x
            usedBatchVariance = false
            ChannelAffine.forward(x, weight: weight, bias: bias, into: output)
            return output
        }
        let n = x.shape.batch, hw = x.shape.spatial
        let train = try usesBatchVariance(mode)
        if train && n * hw <= 1 { throw singleValueError(layer: name, shape: x.shape) }
        input = x
        usedBatchVariance = train
        left.resize(to: Shape(channels))
        batchMean.resize(to: Shape(channels))
        planeMean.resize(to: Shape(n * channels))
        planeStd.resize(to: Shape(n * channels))
        output.resize(to: x.shape)
        if train {
            let mean = UnsafeMutablePointer<Double>.allocate(capacity: 2 * channels)
            defer { mean.deallocate() }
            BatchNormKernels.moments(x.data, samples: 0..<n, channels: channels, spatial: hw,
                                     mean: mean, variance: mean + channels, threads: .serial)
            let m = Double(n * hw)
            for c in 0..<channels {
                let variance = Float(mean[channels + c])
                batchMean.data[c] = Float(mean[c])
                left.data[c] = (variance + eps).squareRoot()
                if mode.normalization == .train {
                    runningVar.data[c] = runningVar.data[c] * (1 - momentum) + variance * momentum * Float(m / (m - 1))
                }
            }
        } else {
            for c in 0..<channels { left.data[c] = (runningVar.data[c] + eps).squareRoot() }
        }
        let gamma = weight.value.data, beta = bias.value.data, scale = v.value.data
        for plane in 0..<(n * channels) {
            let c = plane % channels, src = x.data + plane * hw, dst = output.data + plane * hw
            let (mean, invStd) = SegmentNormalization.statistics(src, count: hw, eps: eps)
            planeMean.data[plane] = mean
            planeStd.data[plane] = 1 / invStd
            for i in 0..<hw {
                let d = max(left.data[c], src[i] * scale[c] + planeStd.data[plane])
                dst[i] = src[i] / d * gamma[c] + beta[c]
            }
        }
        return output
    }

    /// Whether `mode` normalizes with the batch variance (and updates the running one).
    private func usesBatchVariance(_ mode: Mode) throws -> Bool {
        switch mode.normalization {
        case .train, .trainWithoutUpdate: return true
        case .eval: return false
        case .adapted:
            throw LayerError(layer: name, "test-time adaptation with a prior mixes BatchNorm's running mean and"
                             + " variance with the batch's; EvoNorm-B0 keeps no running mean, and its authors define none")
        }
    }

    /// With `h = dy * weight`, `dd = -h * x / d^2`, shared by `max(left, right)` as PyTorch's
    /// `torch.maximum` does (all to the larger, half each at a tie):
    /// `dweight[c] += sum dy * x / d`, `dbias[c] += sum dy`, `dv[c] += sum dright * x`,
    /// `dx = h / d + dright * v + dIstd_plane * (x - mean_plane) / (HW * istd)` with
    /// `dIstd_plane = sum dright` over the plane; in train mode also
    /// `+ dleft_c * (x - mean_c) / (m * left_c)` with `dleft_c = sum dleft` over the channel.
    /// Without the activation, the affine's (``ChannelAffine/backward(_:input:weight:bias:into:)``).
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        precondition(dy.shape == x.shape, "\(name): gradient \(dy.shape) does not match input \(x.shape)")
        guard let v else {
            ChannelAffine.backward(dy, input: x, weight: weight, bias: bias, into: inputGradient)
            return inputGradient
        }
        let n = x.shape.batch, hw = x.shape.spatial
        inputGradient.resize(to: x.shape)
        let gamma = weight.value.data, scale = v.value.data
        let dGamma = weight.gradient.data, dBeta = bias.gradient.data, dScale = v.gradient.data
        var dLeft = [Double](repeating: 0, count: channels)
        for plane in 0..<(n * channels) {
            let c = plane % channels, istd = planeStd.data[plane], mean = planeMean.data[plane]
            let xs = x.data + plane * hw, g = dy.data + plane * hw, dx = inputGradient.data + plane * hw
            var sumGY = 0.0, sumG = 0.0, sumV = 0.0, dIstd = 0.0
            for i in 0..<hw {
                let right = xs[i] * scale[c] + istd, l = left.data[c]
                let d = max(l, right)
                let shareRight: Float = right > l ? 1 : (right < l ? 0 : 0.5)
                let h = g[i] * gamma[c]
                let dd = -h * xs[i] / (d * d)
                let dRight = dd * shareRight
                sumGY += Double(g[i]) * Double(xs[i] / d)
                sumG += Double(g[i])
                sumV += Double(dRight) * Double(xs[i])
                dIstd += Double(dRight)
                dLeft[c] += Double(dd - dRight)
                dx[i] = h / d + dRight * scale[c]
            }
            dGamma[c] += Float(sumGY)
            dBeta[c] += Float(sumG)
            dScale[c] += Float(sumV)
            let p = Float(dIstd) / (Float(hw) * istd)
            for i in 0..<hw { dx[i] += p * (xs[i] - mean) }
        }
        guard usedBatchVariance else { return inputGradient }
        let m = Float(n * hw)
        for plane in 0..<(n * channels) {
            let c = plane % channels, p = Float(dLeft[c]) / (m * left.data[c]), mean = batchMean.data[c]
            let xs = x.data + plane * hw, dx = inputGradient.data + plane * hw
            for i in 0..<hw { dx[i] += p * (xs[i] - mean) }
        }
        return inputGradient
    }
}
