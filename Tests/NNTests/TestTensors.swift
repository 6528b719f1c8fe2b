import NN
import TensorCore

/// Seeded input tensors for the NN tests. Every draw comes from ``RandomGenerator``,
/// so each test sees the same numbers on every run and machine.
enum TestTensors {
    /// Values drawn from `N(mean, std^2)`.
    static func normal(_ shape: Shape, seed: UInt64, mean: Float = 0, std: Float = 1) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        let t = Tensor(shape)
        for i in 0..<t.count { t.data[i] = mean + std * rng.normal() }
        return t
    }

    /// Values uniform in `[low, high)`.
    static func uniform(_ shape: Shape, seed: UInt64, _ low: Float, _ high: Float) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        let t = Tensor(shape)
        for i in 0..<t.count { t.data[i] = rng.uniform(low, high) }
        return t
    }

    /// Values with `margin <= |v| < margin + 1` and a random sign: no value is within
    /// `margin` of ReLU's kink at 0, so a finite-difference step below `margin` never crosses it.
    static func awayFromZero(_ shape: Shape, seed: UInt64, margin: Float) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        let t = Tensor(shape)
        for i in 0..<t.count {
            let magnitude = margin + rng.nextFloat()
            t.data[i] = rng.nextInt(below: 2) == 0 ? magnitude : -magnitude
        }
        return t
    }

    /// A random permutation of the grid `spacing * (k - count/2)`, `k = 0..<count`: any two
    /// values differ by at least `spacing`, so max pooling has no ties and a step below
    /// `spacing / 2` never changes which value wins a window.
    static func distinct(_ shape: Shape, seed: UInt64, spacing: Float) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        let order = rng.permutation(shape.count)
        let t = Tensor(shape)
        for i in 0..<t.count { t.data[i] = spacing * Float(order[i] - shape.count / 2) }
        return t
    }

    /// Overwrites every parameter of `layer` (and of the layers inside it) with
    /// values in `[low, high)`, so tests do not run at the special values 1 and 0 of a fresh
    /// normalization layer's weight and bias.
    static func randomizeParameters(of layer: Layer, seed: UInt64, _ low: Float = -1, _ high: Float = 1) {
        var rng = RandomGenerator(seed: seed)
        for p in layer.parameters {
            for i in 0..<p.value.count { p.value.data[i] = rng.uniform(low, high) }
        }
    }
}
