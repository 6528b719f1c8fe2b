import TensorCore

/// Filter Response Normalization with a Thresholded Linear Unit (Singh & Krishnan, CVPR 2020,
/// "Filter Response Normalization Layer: Eliminating Batch Dependence in the Training of Deep
/// Neural Networks"), as timm's `FilterResponseNormTlu2d` (`timm/layers/filter_response_norm.py`,
/// huggingface/pytorch-image-models at aa4b5850c1543fa488abf260f18390eda46cf85d).
///
/// Shapes: `x (N, C, H, W)` only (timm asserts a 4-D input; the paper defines FRN over the
/// spatial extent of a conv feature map), `M = H*W` values per (sample, channel) plane.
/// Per plane: `nu2 = sum x^2 / M` (the mean square, NOT the variance: no mean is subtracted),
/// `r = 1 / sqrt(nu2 + eps)`, `xhat = x * r`, `y = xhat * weight[c] + bias[c]`,
/// `z = max(y, tau[c])`. Without the activation (``appliesActivation`` false, timm's `apply_act=False`:
/// `tau` is None) the layer has no `tau` and returns `z = y`, the normalization and affine kept.
/// No running statistics and nothing across the batch: train and eval mode
/// compute the same function, and one sample's output never depends on the others.
/// Init as timm's `reset_parameters`: `weight = 1`, `bias = 0`, `tau = 0`; `eps` fixed (timm's
/// default 1e-5; timm's layer has no learnable eps).
///
/// Forward keeps a reference to `x`, the `(N*C)` buffer of `r` and the pre-threshold response `y`
/// (which side of `tau` each value fell on).
public final class FilterResponseNorm: NormalizationActivation {
    public let channels: Int
    /// Fixed, > 0: `r = 1 / sqrt(nu2 + eps)`.
    public let eps: Float
    public let weight: Parameter
    public let bias: Parameter
    /// The learned threshold of the TLU, per channel; nil without the activation (timm's `tau = None`).
    public let tau: Parameter?

    private var input: Tensor?
    private let savedInvRMS = Tensor()
    private let response = Tensor()
    private let output = Tensor()
    private let inputGradient = Tensor()

    /// `applyActivation` is timm's `apply_act` (default true).
    public init(channels: Int, eps: Float = 1e-5, applyActivation: Bool = true) {
        precondition(channels > 0, "FilterResponseNorm: channels must be positive, got \(channels)")
        precondition(eps > 0, "FilterResponseNorm: eps must be positive, got \(eps)")
        self.channels = channels
        self.eps = eps
        (weight, bias) = Parameter.normalizationAffine(count: channels)
        tau = applyActivation ? Parameter(name: "tau", value: Tensor(Shape(channels))) : nil
    }

    public var appliesActivation: Bool { tau != nil }
    public var name: String { "FilterResponseNorm(\(channels)\(appliesActivation ? "" : ", apply_act=False"))" }
    /// In timm's `state_dict` order: `weight`, `bias`, `tau` (without the activation: `weight`, `bias`).
    public var parameters: [Parameter] { [weight, bias] + [tau].compactMap { $0 } }

    public func clone() -> FilterResponseNorm {
        let c = FilterResponseNorm(channels: channels, eps: eps, applyActivation: appliesActivation)
        for (mine, theirs) in zip(c.parameters, parameters) { mine.value.assign(theirs.value) }
        return c
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.shape.rank == 4, x.shape.channels == channels else {
            throw LayerError(layer: name, "expected input (N, \(channels), H, W) (timm's FilterResponseNormTlu2d is 2-d only), got \(x.shape)")
        }
        let n = x.shape.batch, hw = x.shape.spatial
        input = x
        savedInvRMS.resize(to: Shape(n * channels))
        response.resize(to: x.shape)
        output.resize(to: x.shape)
        let gamma = weight.value.data, beta = bias.value.data, threshold = tau?.value.data
        for plane in 0..<(n * channels) {
            let c = plane % channels
            let src = x.data + plane * hw, y = response.data + plane * hw, z = output.data + plane * hw
            var squares = 0.0
            for i in 0..<hw { squares += Double(src[i]) * Double(src[i]) }
            let r = Float(1 / (squares / Double(hw) + Double(eps)).squareRoot())
            savedInvRMS.data[plane] = r
            for i in 0..<hw {
                y[i] = src[i] * r * gamma[c] + beta[c]
                if let threshold { z[i] = max(y[i], threshold[c]) } else { z[i] = y[i] }
            }
        }
        return output
    }

    /// `max(y, tau)` passes `dz` to `y` where `y > tau`, to `tau` where `y < tau`, and half to each
    /// at a tie (PyTorch's `torch.maximum` gradient); without the activation all of `dz` goes to `y`.
    /// With `g = dL/dy`, per plane:
    /// `dweight[c] += sum g * xhat`, `dbias[c] += sum g`, `dtau[c] += sum dz where y < tau`,
    /// `dx = r * g * weight - r^3 * x * sum(g * weight * x) / M`.
    public func backward(_ dz: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        precondition(dz.shape == x.shape, "\(name): gradient \(dz.shape) does not match input \(x.shape)")
        let hw = x.shape.spatial
        inputGradient.resize(to: x.shape)
        let gamma = weight.value.data, threshold = tau?.value.data
        let dGamma = weight.gradient.data, dBeta = bias.gradient.data, dTau = tau?.gradient.data
        for plane in 0..<(x.shape.batch * channels) {
            let c = plane % channels, r = savedInvRMS.data[plane]
            let xs = x.data + plane * hw, y = response.data + plane * hw
            let g = dz.data + plane * hw, dx = inputGradient.data + plane * hw
            var sumG = 0.0, sumGXhat = 0.0, sumTau = 0.0, sumGX = 0.0
            for i in 0..<hw {
                let share: Float
                if let threshold { share = y[i] > threshold[c] ? 1 : (y[i] < threshold[c] ? 0 : 0.5) } else { share = 1 }
                let gy = g[i] * share
                sumTau += Double(g[i] - gy)
                sumG += Double(gy)
                sumGXhat += Double(gy) * Double(xs[i] * r)
                sumGX += Double(gy * gamma[c]) * Double(xs[i])
                dx[i] = gy  // dL/dy for now; the input gradient below
            }
            dGamma[c] += Float(sumGXhat)
            dBeta[c] += Float(sumG)
            dTau?[c] += Float(sumTau)
            let projection = r * r * r * Float(sumGX / Double(hw))
            for i in 0..<hw { dx[i] = r * dx[i] * gamma[c] - projection * xs[i] }
        }
        return inputGradient
    }
}
