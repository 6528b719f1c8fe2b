import TensorCore

/// Group Normalization (Wu & He 2018), as `torch.nn.GroupNorm(groups, C)`.
///
/// Shapes: `x (N, C)` or `(N, C, H, W)`; `C` channels in `G` groups of `C/G`.
/// Each (sample, group) is normalized over its `L = (C/G)*H*W` values with the
/// biased variance: `y = (x - mean) / sqrt(var + eps) * weight[c] + bias[c]`.
/// No running statistics: train and eval mode compute the same function, and
/// the result for one sample never depends on the rest of the batch.
/// `G = C` is InstanceNorm with a per-channel affine; `G = 1` normalizes each sample over all its values.
/// Forward keeps `x` and `(N, G)` buffers of mean and invStd.
public final class GroupNorm: Layer {
    public let groups: Int
    public let channels: Int
    public let eps: Float
    public let weight: Parameter
    public let bias: Parameter

    private var input: Tensor?
    private let savedMean = Tensor()
    private let savedInvStd = Tensor()
    private let output = Tensor()
    private let inputGradient = Tensor()
    private let scratch = Tensor()

    public init(groups: Int, channels: Int, eps: Float = 1e-5) throws {
        guard groups >= 1, channels >= 1, channels % groups == 0 else {
            throw LayerError(layer: "GroupNorm", "groups (\(groups)) must divide the number of channels (\(channels))")
        }
        self.groups = groups
        self.channels = channels
        self.eps = eps
        (weight, bias) = Parameter.normalizationAffine(count: channels)
    }

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
        input = x
        output.resize(to: x.shape)
        savedMean.resize(to: Shape(n, groups))
        savedInvStd.resize(to: Shape(n, groups))
        for s in 0..<(n * groups) {
            let seg = x.data + s * length, out = output.data + s * length
            let (mean, invStd) = SegmentNormalization.statistics(seg, count: length, eps: eps)
            savedMean.data[s] = mean
            savedInvStd.data[s] = invStd
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
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        precondition(dy.shape == x.shape, "\(name): gradient \(dy.shape) does not match input \(x.shape)")
        let n = x.shape.batch, hw = x.shape.spatial, perGroup = channels / groups, length = perGroup * hw
        inputGradient.resize(to: x.shape)
        scratch.resize(to: Shape(length))
        let gamma = weight.value.data, dGamma = weight.gradient.data, dBeta = bias.gradient.data
        for s in 0..<(n * groups) {
            let mean = savedMean.data[s], invStd = savedInvStd.data[s]
            let xs = x.data + s * length, g = dy.data + s * length
            let firstChannel = (s % groups) * perGroup
            for k in 0..<perGroup {
                let c = firstChannel + k
                var dotSum: Float = 0, sum: Float = 0
                for i in 0..<hw {
                    let j = k * hw + i
                    dotSum += g[j] * (xs[j] - mean) * invStd
                    sum += g[j]
                    scratch.data[j] = g[j] * gamma[c]
                }
                dGamma[c] += dotSum
                dBeta[c] += sum
            }
            SegmentNormalization.inputGradient(x: xs, dxhat: scratch.data, dx: inputGradient.data + s * length,
                                               count: length, mean: mean, invStd: invStd)
        }
        return inputGradient
    }
}
