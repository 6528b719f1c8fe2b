import TensorCore

/// Group Normalization (Wu & He 2018), as `torch.nn.GroupNorm(groups, C)`.
///
/// Shapes: `x (N, C)` or `(N, C, H, W)`; `C` channels in `G` groups of `C/G`.
/// Each (sample, group) is normalized over its `L = (C/G)*H*W` values with the
/// biased variance: `y = (x - mean) / sqrt(var + eps) * weight[c] + bias[c]`.
/// No running statistics: train and eval mode compute the same function, and
/// the result for one sample never depends on the rest of the batch.
/// `G = C` is InstanceNorm with a per-channel affine; `G = 1` normalizes each sample over all its values.
/// Forward keeps `x` and `(N*G)` buffers of mean and invStd (``SegmentNormalization``, shared with ``LayerNorm``).
public final class GroupNorm: Layer {
    public let groups: Int
    public let channels: Int
    public let weight: Parameter
    public let bias: Parameter
    private let normalization: SegmentNormalization

    public init(groups: Int, channels: Int, eps: Float = 1e-5) throws {
        guard groups >= 1, channels >= 1, channels % groups == 0 else {
            throw LayerError(layer: "GroupNorm", "groups (\(groups)) must divide the number of channels (\(channels))")
        }
        self.groups = groups
        self.channels = channels
        (weight, bias) = Parameter.normalizationAffine(count: channels)
        normalization = SegmentNormalization(eps: eps)
    }

    public var eps: Float { normalization.eps }
    public var name: String { "GroupNorm(\(groups), \(channels))" }
    public var parameters: [Parameter] { [weight, bias] }

    public func clone() -> GroupNorm {
        let c = try! GroupNorm(groups: groups, channels: channels, eps: eps)
        c.weight.value.assign(weight.value)
        c.bias.value.assign(bias.value)
        return c
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard (x.shape.rank == 2 || x.shape.rank == 4), x.shape.channels == channels else {
            throw LayerError(layer: name, "expected input (N, \(channels)[, H, W]), got \(x.shape)")
        }
        let n = x.shape.batch, hw = x.shape.spatial, perGroup = channels / groups
        let length = perGroup * hw
        normalization.beginForward(x, segments: n * groups)
        let output = normalization.output
        for s in 0..<(n * groups) {
            let seg = x.data + s * length, out = output.data + s * length
            let (mean, invStd) = normalization.measure(seg, segment: s, length: length)
            let firstChannel = (s % groups) * perGroup
            for k in 0..<perGroup {
                let c = firstChannel + k
                let scale = invStd * weight.value.data[c], shift = bias.value.data[c] - mean * scale
                let src = seg + k * hw, dst = out + k * hw
                for i in 0..<hw { dst[i] = src[i] * scale + shift }
            }
        }
        return output
    }

    /// `dweight[c] += sum(dy * xhat)`, `dbias[c] += sum(dy)`, and per segment the
    /// normalization backward with `dL/dxhat = dy * weight[c]`.
    public func backward(_ dy: Tensor) -> Tensor {
        let hw = dy.shape.spatial, perGroup = channels / groups, length = perGroup * hw
        let x = normalization.beginBackward(dy, length: length, layer: name)
        let gamma = weight.value.data, dGamma = weight.gradient.data, dBeta = bias.gradient.data
        let dxhat = normalization.dxhat.data
        for s in 0..<(x.shape.batch * groups) {
            let (mean, invStd) = normalization.saved(segment: s)
            let xs = x.data + s * length, g = dy.data + s * length
            let firstChannel = (s % groups) * perGroup
            for k in 0..<perGroup {
                let c = firstChannel + k
                var dotSum: Float = 0, sum: Float = 0
                for i in 0..<hw {
                    let j = k * hw + i
                    dotSum += g[j] * (xs[j] - mean) * invStd
                    sum += g[j]
                    dxhat[j] = g[j] * gamma[c]
                }
                dGamma[c] += dotSum
                dBeta[c] += sum
            }
            normalization.backpropagate(xs, segment: s, length: length)
        }
        return normalization.inputGradient
    }
}
