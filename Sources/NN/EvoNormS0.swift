import Foundation
import TensorCore

/// EvoNorm-S0 (Liu, Brock, Simonyan & Le, NeurIPS 2020, "Evolving Normalization-Activation
/// Layers"), as timm's `EvoNorm2dS0` (`timm/layers/evo_norm.py`, huggingface/pytorch-image-models
/// at aa4b5850c1543fa488abf260f18390eda46cf85d), a normalization-activation layer.
///
/// Shapes: `x (N, C, H, W)` only (timm asserts a 4-D input); `C` channels in `G` groups of `C/G`
/// (`G` must divide `C`; timm's `groups`, default 32), `L = (C/G)*H*W` values per (sample, group).
/// timm's `group_std`: per (sample, group) `mean = sum x / L`, `var = sum (x - mean)^2 / L` (BIASED),
/// `std = sqrt(var + eps)` (eps inside the root). Then
/// `y = x * sigmoid(v[c] * x) / std * weight[c] + bias[c]`.
/// No running statistics and nothing across the batch: train and eval mode compute the same
/// function. Init as timm's `reset_parameters`: `weight = 1`, `bias = 0`, `v = 1`; eps 1e-5.
/// Without the activation (``appliesActivation`` false, timm's `apply_act=False`) the layer has no
/// `v`, and timm's `forward` then skips the normalization too: `y = x * weight[c] + bias[c]`, an
/// affine only (``ChannelAffine``; `groups` and `eps` are not used). That is timm's code as it is
/// (timm's `EvoNorm2dS0a` keeps the division by the group std without the sigmoid; this is not it).
///
/// Forward keeps a reference to `x` and `(N*G)` buffers of mean and `invStd = 1/std`
/// (``SegmentNormalization``'s statistics); backward recomputes the sigmoid.
public final class EvoNormS0: NormalizationActivation {
    public let groups: Int
    public let channels: Int
    /// `std = sqrt(var + eps)`, > 0.
    public let eps: Float
    public let weight: Parameter
    public let bias: Parameter
    /// The sigmoid's per-channel scale (timm's `v`); nil without the activation.
    public let v: Parameter?

    private var input: Tensor?
    private let savedMean = Tensor()
    private let savedInvStd = Tensor()
    private let output = Tensor()
    private let inputGradient = Tensor()

    /// `applyActivation` is timm's `apply_act` (default true).
    public init(channels: Int, groups: Int = 32, eps: Float = 1e-5, applyActivation: Bool = true) throws {
        guard groups >= 1, channels >= 1, channels % groups == 0 else {
            throw LayerError(layer: "EvoNormS0", "groups (\(groups)) must divide the number of channels (\(channels))")
        }
        precondition(eps > 0, "EvoNormS0: eps must be positive, got \(eps)")
        self.groups = groups
        self.channels = channels
        self.eps = eps
        (weight, bias) = Parameter.normalizationAffine(count: channels)
        v = applyActivation ? Parameter(name: "v", value: Tensor(Shape(channels))) : nil
        v?.value.fill(1)
    }

    public var appliesActivation: Bool { v != nil }
    public var name: String { "EvoNormS0(\(channels), groups=\(groups)\(appliesActivation ? "" : ", apply_act=False"))" }
    /// In timm's `state_dict` order: `weight`, `bias`, `v` (without the activation: `weight`, `bias`).
    public var parameters: [Parameter] { [weight, bias] + [v].compactMap { $0 } }

    public func clone() -> EvoNormS0 {
        let c = try! EvoNormS0(channels: channels, groups: groups, eps: eps, applyActivation: appliesActivation)
        for (mine, theirs) in zip(c.parameters, parameters) { mine.value.assign(theirs.value) }
        return c
    }

    @inline(__always)
    static func sigmoid(_ z: Float) -> Float { 1 / (1 + exp(-z)) }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.shape.rank == 4, x.shape.channels == channels else {
            throw LayerError(layer: name, "expected input (N, \(channels), H, W) (timm's EvoNorm2dS0 is 2-d only), got \(x.shape)")
        }
        input = x
        guard let v else {
            ChannelAffine.forward(x, weight: weight, bias: bias, into: output)
            return output
        }
        let n = x.shape.batch, hw = x.shape.spatial, perGroup = channels / groups, length = perGroup * hw
        savedMean.resize(to: Shape(n * groups))
        savedInvStd.resize(to: Shape(n * groups))
        output.resize(to: x.shape)
        let gamma = weight.value.data, beta = bias.value.data, scale = v.value.data
        for s in 0..<(n * groups) {
            let src = x.data + s * length, dst = output.data + s * length
            let (mean, invStd) = SegmentNormalization.statistics(src, count: length, eps: eps)
            savedMean.data[s] = mean
            savedInvStd.data[s] = invStd
            for k in 0..<perGroup {
                let c = (s % groups) * perGroup + k
                for i in (k * hw)..<((k + 1) * hw) {
                    dst[i] = src[i] * EvoNormS0.sigmoid(src[i] * scale[c]) * invStd * gamma[c] + beta[c]
                }
            }
        }
        return output
    }

    /// With `s = sigmoid(v x)`, `a = x * s`, `g = dy`, per (sample, group) `Q = sum g * weight * a`:
    /// `dweight[c] += sum g * a * invStd`, `dbias[c] += sum g`, `dv[c] += sum g * weight * invStd * x^2 s (1 - s)`,
    /// `dx = g * weight * invStd * (s + v x s (1 - s)) - Q * invStd^3 * (x - mean) / L`.
    /// Without the activation, the affine's (``ChannelAffine/backward(_:input:weight:bias:into:)``).
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        precondition(dy.shape == x.shape, "\(name): gradient \(dy.shape) does not match input \(x.shape)")
        guard let v else {
            ChannelAffine.backward(dy, input: x, weight: weight, bias: bias, into: inputGradient)
            return inputGradient
        }
        let hw = x.shape.spatial, perGroup = channels / groups, length = perGroup * hw
        inputGradient.resize(to: x.shape)
        let gamma = weight.value.data, scale = v.value.data
        let dGamma = weight.gradient.data, dBeta = bias.gradient.data, dScale = v.gradient.data
        for s in 0..<(x.shape.batch * groups) {
            let mean = savedMean.data[s], invStd = savedInvStd.data[s]
            let xs = x.data + s * length, g = dy.data + s * length, dx = inputGradient.data + s * length
            var projection = 0.0
            for k in 0..<perGroup {
                let c = (s % groups) * perGroup + k
                var sumGA = 0.0, sumG = 0.0, sumV = 0.0
                for i in (k * hw)..<((k + 1) * hw) {
                    let sig = EvoNormS0.sigmoid(xs[i] * scale[c]), a = xs[i] * sig
                    let ga = g[i] * gamma[c] * invStd
                    sumGA += Double(g[i]) * Double(a)
                    sumG += Double(g[i])
                    sumV += Double(ga) * Double(xs[i] * xs[i] * sig * (1 - sig))
                    dx[i] = ga * (sig + scale[c] * xs[i] * sig * (1 - sig))
                }
                dGamma[c] += Float(sumGA) * invStd
                dBeta[c] += Float(sumG)
                dScale[c] += Float(sumV)
                projection += sumGA * Double(gamma[c])
            }
            let p = Float(projection) * invStd * invStd * invStd / Float(length)
            for i in 0..<length { dx[i] -= p * (xs[i] - mean) }
        }
        return inputGradient
    }
}
