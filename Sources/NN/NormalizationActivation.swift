import TensorCore

/// A normalization-activation layer (Liu et al. 2020's name for a layer that normalizes and ends in
/// its own nonlinearity): ``FilterResponseNorm`` (TLU), ``EvoNormS0`` (`x * sigmoid(v * x)`),
/// ``EvoNormB0`` (`max(left, x * v + istd)`), each built with or without that nonlinearity as timm's
/// `apply_act` builds it. timm builds the norm of a residual block that is not followed by an
/// activation (the branch's last norm and the projection's, before the addition) with
/// `apply_act=False` (``ResidualNetwork``).
public protocol NormalizationActivation: Layer {
    /// timm's `apply_act`: whether the layer ends in its nonlinearity. What each layer computes
    /// without it (timm's code, not always "the same minus the activation") is in its doc comment.
    var appliesActivation: Bool { get }
}

/// `y = x * weight[c] + bias[c]` on `x (N, C, H, W)`, and its backward: what timm's `EvoNorm2dS0` and
/// `EvoNorm2dB0` compute with `apply_act=False` (their `v` is None, and their `forward` skips the
/// normalization with it: `if self.v is not None: ...; return x * weight + bias`).
enum ChannelAffine {
    static func forward(_ x: Tensor, weight: Parameter, bias: Parameter, into y: Tensor) {
        let channels = x.shape.channels, hw = x.shape.spatial
        y.resize(to: x.shape)
        let gamma = weight.value.data, beta = bias.value.data
        for plane in 0..<(x.shape.batch * channels) {
            let c = plane % channels, src = x.data + plane * hw, dst = y.data + plane * hw
            for i in 0..<hw { dst[i] = src[i] * gamma[c] + beta[c] }
        }
    }

    /// `dweight[c] += sum dy * x`, `dbias[c] += sum dy`, `dx = dy * weight[c]`.
    static func backward(_ dy: Tensor, input x: Tensor, weight: Parameter, bias: Parameter, into dx: Tensor) {
        let channels = x.shape.channels, hw = x.shape.spatial
        dx.resize(to: x.shape)
        let gamma = weight.value.data, dGamma = weight.gradient.data, dBeta = bias.gradient.data
        for plane in 0..<(x.shape.batch * channels) {
            let c = plane % channels, xs = x.data + plane * hw, g = dy.data + plane * hw, d = dx.data + plane * hw
            var sumGX = 0.0, sumG = 0.0
            for i in 0..<hw {
                sumGX += Double(g[i]) * Double(xs[i])
                sumG += Double(g[i])
                d[i] = g[i] * gamma[c]
            }
            dGamma[c] += Float(sumGX)
            dBeta[c] += Float(sumG)
        }
    }
}
