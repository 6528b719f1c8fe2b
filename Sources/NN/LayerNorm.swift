import TensorCore

/// Layer Normalization (Ba, Kiros & Hinton 2016), as `torch.nn.LayerNorm(normalized_shape)`
/// with `normalized_shape` = every dimension but the batch: `(C)` for `(N, C)` input,
/// `(C, H, W)` for `(N, C, H, W)` input.
///
/// Each sample is normalized over its `L = C*H*W` values with the biased variance,
/// then an ELEMENTWISE affine: `y[i] = (x[i] - mean) / sqrt(var + eps) * weight[i] + bias[i]`,
/// `weight`, `bias` of `L` values. No running statistics; mode-independent.
/// Forward keeps `x` and `(N)` buffers of mean and invStd.
public final class LayerNorm: Layer {
    /// The normalized shape without batch: `Shape(1, C)` or `Shape(1, C, H, W)`.
    public let normalizedShape: Shape
    public let eps: Float
    public let weight: Parameter
    public let bias: Parameter

    private var input: Tensor?
    private let savedMean = Tensor()
    private let savedInvStd = Tensor()
    private let output = Tensor()
    private let inputGradient = Tensor()
    private let scratch = Tensor()

    /// - Parameter sampleShape: the shape of one sample, as `Shape(1, C)` or `Shape(1, C, H, W)`.
    public init(sampleShape: Shape, eps: Float = 1e-5) {
        precondition(sampleShape.batch == 1 && sampleShape.perSample > 0, "LayerNorm: sample shape must have batch 1, got \(sampleShape)")
        normalizedShape = sampleShape
        self.eps = eps
        (weight, bias) = Parameter.normalizationAffine(count: sampleShape.perSample)
    }

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
        input = x
        output.resize(to: x.shape)
        savedMean.resize(to: Shape(n))
        savedInvStd.resize(to: Shape(n))
        let gamma = weight.value.data, beta = bias.value.data
        for s in 0..<n {
            let src = x.data + s * length, dst = output.data + s * length
            let (mean, invStd) = SegmentNormalization.statistics(src, count: length, eps: eps)
            savedMean.data[s] = mean
            savedInvStd.data[s] = invStd
            for i in 0..<length { dst[i] = (src[i] - mean) * invStd * gamma[i] + beta[i] }
        }
        return output
    }

    /// `dweight[i] += sum_n dy * xhat`, `dbias[i] += sum_n dy`, then the
    /// normalization backward with `dL/dxhat = dy * weight`.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        precondition(dy.shape == x.shape, "\(name): gradient \(dy.shape) does not match input \(x.shape)")
        let n = x.shape.batch, length = normalizedShape.perSample
        inputGradient.resize(to: x.shape)
        scratch.resize(to: Shape(length))
        let gamma = weight.value.data, dGamma = weight.gradient.data, dBeta = bias.gradient.data
        for s in 0..<n {
            let mean = savedMean.data[s], invStd = savedInvStd.data[s]
            let xs = x.data + s * length, g = dy.data + s * length
            for i in 0..<length {
                dGamma[i] += g[i] * (xs[i] - mean) * invStd
                dBeta[i] += g[i]
                scratch.data[i] = g[i] * gamma[i]
            }
            SegmentNormalization.inputGradient(x: xs, dxhat: scratch.data, dx: inputGradient.data + s * length,
                                               count: length, mean: mean, invStd: invStd)
        }
        return inputGradient
    }
}
