import TensorCore

/// Inverted dropout, as `torch.nn.Dropout(p)`.
///
/// `p` is the probability of DROPPING a unit. In `mode.dropout == .train`,
/// each value is kept with probability `1 - p` and kept values are scaled by
/// `1 / (1 - p)`, so the expectation is unchanged; in `.eval` it is the
/// identity. Forward keeps the mask (0 or `1/(1-p)` per value) for backward.
///
/// The layer owns its random stream (seeded at construction, copied by
/// `clone()`), so masks are reproducible and no generator is shared.
public final class Dropout: Layer {
    public let dropProbability: Float
    public private(set) var rng: RandomGenerator

    private let mask = Tensor()
    private var maskActive = false
    private let output = Tensor()
    private let inputGradient = Tensor()

    /// - Parameter p: probability of dropping, in [0, 1).
    public init(p: Float, rng: RandomGenerator) throws {
        guard p >= 0 && p < 1 else {
            throw LayerError(layer: "Dropout", "p must be in [0, 1), got \(p)")
        }
        dropProbability = p
        self.rng = rng
    }

    public var name: String { "Dropout(p=\(dropProbability))" }
    public func clone() -> Dropout { try! Dropout(p: dropProbability, rng: rng) }

    /// The mask of the last forward, one value per input value: `1 / (1 - p)` where the value was kept,
    /// 0 where it was dropped; nil when that forward was in `.eval` (or there was none). Recording a
    /// run reads it (`bnlab export-training`); reading changes nothing.
    public var lastMask: [Float]? { maskActive ? mask.array : nil }

    /// Replaces the random stream (Monte-Carlo dropout draws a fresh stream per pass).
    public func reseed(_ generator: RandomGenerator) { rng = generator }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        output.resize(to: x.shape)
        switch mode.dropout {
        case .eval:
            maskActive = false
            output.data.update(from: x.data, count: x.count)
        case .train:
            maskActive = true
            mask.resize(to: x.shape)
            let scale = 1 / (1 - dropProbability)
            let keep = 1 - dropProbability
            let m = mask.data, src = x.data, dst = output.data
            var g = rng  // local copy: no exclusivity checks in the loop
            for i in 0..<x.count {
                // kept with probability 1 - p: u ~ U[0, 1) is < 1 - p with that probability
                m[i] = g.nextFloat() < keep ? scale : 0
                dst[i] = src[i] * m[i]
            }
            rng = g
        }
        return output
    }

    /// Sets the mask used by the next train-mode backward (tests: a fixed mask).
    public func forward(_ x: Tensor, fixedMask: [Float]) -> Tensor {
        precondition(fixedMask.count == x.count, "Dropout: mask has \(fixedMask.count) values for input \(x.shape)")
        mask.resize(to: x.shape)
        output.resize(to: x.shape)
        maskActive = true
        for i in 0..<x.count {
            mask.data[i] = fixedMask[i]
            output.data[i] = x.data[i] * fixedMask[i]
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.shape == output.shape, "Dropout: gradient \(dy.shape) does not match output \(output.shape)")
        inputGradient.resize(to: dy.shape)
        if maskActive {
            let m = mask.data, g = dy.data, dx = inputGradient.data
            for i in 0..<dy.count { dx[i] = g[i] * m[i] }
        } else {
            inputGradient.data.update(from: dy.data, count: dy.count)
        }
        return inputGradient
    }
}
