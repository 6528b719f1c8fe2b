import TensorCore

/// Layer Normalization (Ba, Kiros & Hinton 2016), as `torch.nn.LayerNorm(normalized_shape)`
/// with `normalized_shape` = every dimension but the batch: `(C)` for `(N, C)` input,
/// `(C, H, W)` for `(N, C, H, W)` input.
///
/// Each sample is normalized over its `L = C*H*W` values with the biased variance,
/// then an ELEMENTWISE affine: `y[i] = (x[i] - mean) / sqrt(var + eps) * weight[i] + bias[i]`,
/// `weight`, `bias` of `L` values. No running statistics; mode-independent.
/// Forward keeps `x` and `(N)` buffers of mean and invStd (``SegmentNormalization``, shared with ``GroupNorm``).
public final class LayerNorm: Layer {
    /// The normalized shape without batch: `Shape(1, C)` or `Shape(1, C, H, W)`.
    public let normalizedShape: Shape
    public let weight: Parameter
    public let bias: Parameter
    private let normalization: SegmentNormalization

    /// - Parameter sampleShape: the shape of one sample, as `Shape(1, C)` or `Shape(1, C, H, W)`.
    public init(sampleShape: Shape, eps: Float = 1e-5) {
        precondition(sampleShape.batch == 1 && sampleShape.perSample > 0, "LayerNorm: sample shape must have batch 1, got \(sampleShape)")
        normalizedShape = sampleShape
        (weight, bias) = Parameter.normalizationAffine(count: sampleShape.perSample)
        normalization = SegmentNormalization(eps: eps)
    }

    public var eps: Float { normalization.eps }
    public var name: String { "LayerNorm\(normalizedShape.dims.dropFirst())" }
    public var parameters: [Parameter] { [weight, bias] }

    public func clone() -> LayerNorm {
        let c = LayerNorm(sampleShape: normalizedShape, eps: eps)
        c.weight.value.assign(weight.value)
        c.bias.value.assign(bias.value)
        return c
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.shape.withBatch(1) == normalizedShape else {
            throw LayerError(layer: name, "expected samples of shape \(normalizedShape), got \(x.shape)")
        }
        let n = x.shape.batch, length = normalizedShape.perSample
        normalization.beginForward(x, segments: n)
        let output = normalization.output
        let gamma = weight.value.data, beta = bias.value.data
        for s in 0..<n {
            let src = x.data + s * length, dst = output.data + s * length
            let (mean, invStd) = normalization.measure(src, segment: s, length: length)
            for i in 0..<length { dst[i] = (src[i] - mean) * invStd * gamma[i] + beta[i] }
        }
        return output
    }

    /// `dweight[i] += sum_n dy * xhat`, `dbias[i] += sum_n dy`, then the
    /// normalization backward with `dL/dxhat = dy * weight`.
    public func backward(_ dy: Tensor) -> Tensor {
        let length = normalizedShape.perSample
        let x = normalization.beginBackward(dy, length: length, layer: name)
        let gamma = weight.value.data, dGamma = weight.gradient.data, dBeta = bias.gradient.data
        let dxhat = normalization.dxhat.data
        for s in 0..<x.shape.batch {
            let (mean, invStd) = normalization.saved(segment: s)
            let xs = x.data + s * length, g = dy.data + s * length
            for i in 0..<length {
                dGamma[i] += g[i] * (xs[i] - mean) * invStd
                dBeta[i] += g[i]
                dxhat[i] = g[i] * gamma[i]
            }
            normalization.backpropagate(xs, segment: s, length: length)
        }
        return normalization.inputGradient
    }
}
