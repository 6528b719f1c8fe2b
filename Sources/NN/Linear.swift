import TensorCore

/// Fully connected layer, as `torch.nn.Linear`: `y = x W^T + b`.
///
/// Shapes: `x (N, IN)`, `W (OUT, IN)` (PyTorch's layout), `b (OUT)`, `y (N, OUT)`.
/// Forward keeps a reference to `x` for the weight gradient.
public final class Linear: Layer {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    /// Whether `backward` computes dLoss/dInput. The first layer of a model has no use
    /// for it (PyTorch skips it too when the input does not require a gradient); when
    /// false, `backward` still accumulates the parameter gradients but returns an
    /// EMPTY tensor (shape `(0)`), so a caller that needs dInput fails loudly.
    public let computesInputGradient: Bool

    private var input: Tensor?
    private let output = Tensor()
    private let inputGradient = Tensor()

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, computesInputGradient: Bool = true,
                rng: inout RandomGenerator) {
        precondition(inFeatures > 0 && outFeatures > 0, "Linear(\(inFeatures), \(outFeatures)): sizes must be positive")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.computesInputGradient = computesInputGradient
        (weight, self.bias) = Initialization.weightAndBias(Shape(outFeatures, inFeatures), fanIn: inFeatures, bias: bias,
                                                           rng: &rng)
    }

    private init(copying other: Linear) {
        inFeatures = other.inFeatures
        outFeatures = other.outFeatures
        weight = other.weight.copy()
        bias = other.bias?.copy()
        computesInputGradient = other.computesInputGradient
    }

    public var name: String { "Linear(\(inFeatures)->\(outFeatures))" }
    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }
    public func clone() -> Linear { Linear(copying: self) }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.shape.rank == 2, x.shape.channels == inFeatures else {
            throw LayerError(layer: name, "expected input (N, \(inFeatures)), got \(x.shape)")
        }
        let n = x.shape.batch
        input = x
        output.resize(to: Shape(n, outFeatures))
        // y = b (broadcast over rows), then y += x W^T
        if let b = bias {
            for row in 0..<n { (output.data + row * outFeatures).update(from: b.value.data, count: outFeatures) }
        }
        BLAS.gemm(transposeB: true, m: n, n: outFeatures, k: inFeatures,
                  a: x.data, aCount: x.count, b: weight.value.data, bCount: weight.value.count,
                  beta: bias == nil ? 0 : 1, c: output.data, cCount: output.count)
        return output
    }

    /// `dW += dy^T x`, `db += sum_rows dy`, `dx = dy W`.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        let n = x.shape.batch
        precondition(dy.shape == Shape(n, outFeatures), "\(name): gradient \(dy.shape) does not match output (\(n), \(outFeatures))")
        let (dW, beta) = weight.takeGradientAccumulationBeta()
        BLAS.gemm(transposeA: true, m: outFeatures, n: inFeatures, k: n,
                  a: dy.data, aCount: dy.count, b: x.data, bCount: x.count,
                  beta: beta, c: dW.data, cCount: dW.count)
        if let b = bias {
            let db = b.gradient.data
            for row in 0..<n {
                let g = dy.data + row * outFeatures
                for j in 0..<outFeatures { db[j] += g[j] }
            }
        }
        guard computesInputGradient else {
            inputGradient.resize(to: Shape(0))
            return inputGradient
        }
        inputGradient.resize(to: x.shape)
        BLAS.gemm(m: n, n: inFeatures, k: outFeatures,
                  a: dy.data, aCount: dy.count, b: weight.value.data, bCount: weight.value.count,
                  c: inputGradient.data, cCount: inputGradient.count)
        return inputGradient
    }
}
