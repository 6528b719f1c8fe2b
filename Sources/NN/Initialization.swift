import TensorCore

/// PyTorch's default initialization of `nn.Linear` and `nn.Conv2d`, seeded.
///
/// Weights: `kaiming_uniform_(w, a = sqrt(5))`, i.e.
/// `gain = sqrt(2 / (1 + a^2)) = sqrt(1/3)`, `bound = gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in)`,
/// `w ~ U(-bound, bound)`. Biases: `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`.
/// `fan_in = in_features` (Linear) or `in_channels * kh * kw` (Conv2d).
/// The distribution is PyTorch's; the draws come from ``RandomGenerator``,
/// so the values differ from `torch.manual_seed`'s.
public enum Initialization {
    /// Fills `tensor` with `U(-1/sqrt(fanIn), 1/sqrt(fanIn))`, drawing in storage order.
    public static func pytorchDefault(_ tensor: Tensor, fanIn: Int, rng: inout RandomGenerator) {
        precondition(fanIn > 0, "fan_in must be positive, got \(fanIn)")
        let bound = 1 / Float(fanIn).squareRoot()
        for i in 0..<tensor.count { tensor.data[i] = rng.uniform(-bound, bound) }
    }

    /// The parameters of a weight layer (``Linear``, ``Conv2d``): `weight` of `shape`, output units
    /// first, and when `bias` is true a `bias` of one value per output unit, each filled by
    /// ``pytorchDefault(_:fanIn:rng:)``, the weight first.
    static func weightAndBias(_ shape: Shape, fanIn: Int, bias: Bool,
                              rng: inout RandomGenerator) -> (weight: Parameter, bias: Parameter?) {
        let weight = Parameter(name: "weight", value: Tensor(shape))
        pytorchDefault(weight.value, fanIn: fanIn, rng: &rng)
        guard bias else { return (weight, nil) }
        let b = Parameter(name: "bias", value: Tensor(Shape(shape[0])))
        pytorchDefault(b.value, fanIn: fanIn, rng: &rng)
        return (weight, b)
    }
}
