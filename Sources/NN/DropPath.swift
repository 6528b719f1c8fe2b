import TensorCore

/// Stochastic depth (Huang, Sun, Liu, Sedra & Weinberger 2016, "Deep Networks with Stochastic
/// Depth"), as timm defines it (`timm/layers/drop.py`, `drop_path` and `DropPath` with
/// `scale_by_keep=True`): per sample, the whole input (a residual branch) is dropped or kept.
///
/// Legend: `x (N, ...)`, any shape with the batch first; `p` = ``dropProbability``,
/// `keep = 1 - p`.
/// - `mode.dropout == .train`: one draw per sample `n`, `b_n ~ Bernoulli(keep)` (timm's
///   `x.new_empty((N, 1, ..., 1)).bernoulli_(keep_prob)`), `m_n = b_n / keep` (`random_tensor.div_(keep_prob)`),
///   and `y[n, ...] = x[n, ...] * m_n`: a kept path is scaled by `1/keep`, so `E[y] = x`.
/// - `.eval` (and `p = 0`, timm's early return): the identity.
/// - Backward: `dx[n, ...] = dy[n, ...] * m_n` (train), `dx = dy` (eval).
/// Forward keeps the mask (one value per sample) for backward.
///
/// Where it sits: on the residual branch of a block, after its last norm and before the addition
/// (``ResidualBlock``, timm's `BasicBlock.forward`: `x = self.drop_path(x)` before `x += shortcut`),
/// with the rate of ``linearDecayRates(_:blocks:)`` per block.
///
/// The layer owns its random stream (seeded at construction, copied by `clone()`), as ``Dropout``.
/// It has no parameters and no buffers: a state dict does not change with it.
public final class DropPath: StochasticLayer {
    /// `p`, the probability of dropping a sample's path, in [0, 1).
    public let dropProbability: Float
    public private(set) var rng: RandomGenerator

    private let mask = Tensor()
    private var maskActive = false
    private let output = Tensor()
    private let inputGradient = Tensor()

    /// - Parameter p: probability of dropping, in [0, 1) (timm accepts 1, where every path is
    ///   dropped and nothing is scaled; the spec format refuses it, as `dropout` refuses 1).
    public init(p: Float, rng: RandomGenerator) throws {
        guard p >= 0 && p < 1 else {
            throw LayerError(layer: "DropPath", "p must be in [0, 1), got \(p)")
        }
        dropProbability = p
        self.rng = rng
    }

    public var name: String { "DropPath(p=\(dropProbability))" }
    public func clone() -> DropPath { try! DropPath(p: dropProbability, rng: rng) }

    /// timm's per-block rates in `make_blocks` (`timm/models/resnet.py`), the stochastic depth linear
    /// decay rule: `rate_i = drop_path_rate * i / (blocks - 1)` for the blocks `i = 0 ... blocks - 1` of the
    /// whole net (counted over every stage), computed in Double as Python does. The first block gets 0
    /// (timm then builds no DropPath), the last `drop_path_rate`. One block divides by zero in timm
    /// (a ZeroDivisionError): refused here.
    public static func linearDecayRates(_ dropPathRate: Double, blocks: Int) -> [Float] {
        precondition(blocks >= 2, "DropPath: the linear decay rule needs at least 2 blocks, got \(blocks)")
        return (0..<blocks).map { Float(dropPathRate * Double($0) / Double(blocks - 1)) }
    }

    /// The per-sample mask of the last forward: `1 / keep` where the sample's path was kept, 0 where
    /// it was dropped; nil when that forward was in `.eval` (or there was none).
    public var lastMask: [Float]? { maskActive ? mask.array : nil }

    /// Replaces the random stream (Monte-Carlo passes draw a fresh stream per pass).
    public func reseed(_ generator: RandomGenerator) { rng = generator }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        switch mode.dropout {
        case .eval:
            return identity(x)
        case .train:
            guard dropProbability > 0 else { return identity(x) }
            let samples = x.shape[0]
            let keep = Float(1 - Double(dropProbability))  // timm: keep_prob = 1 - drop_prob (a Python float)
            let scale = 1 / keep
            var g = rng  // local copy: no exclusivity checks in the loop
            var values = [Float](repeating: 0, count: samples)
            // b ~ Bernoulli(keep): u ~ U[0, 1) is < keep with that probability
            for n in 0..<samples { values[n] = g.nextFloat() < keep ? scale : 0 }
            rng = g
            return apply(x, mask: values)
        }
    }

    /// The train-mode forward with a given per-sample mask (`N` values; tests and goldens: a fixed
    /// mask). The next backward uses it.
    public func forward(_ x: Tensor, fixedMask: [Float]) -> Tensor {
        precondition(fixedMask.count == x.shape[0], "DropPath: mask has \(fixedMask.count) values for input \(x.shape)")
        return apply(x, mask: fixedMask)
    }

    private func identity(_ x: Tensor) -> Tensor {
        maskActive = false
        output.resize(to: x.shape)
        output.data.update(from: x.data, count: x.count)
        return output
    }

    /// `y[n, ...] = x[n, ...] * mask[n]`.
    private func apply(_ x: Tensor, mask values: [Float]) -> Tensor {
        maskActive = true
        mask.resize(to: Shape(values.count))
        for n in values.indices { mask.data[n] = values[n] }
        output.resize(to: x.shape)
        let perSample = values.isEmpty ? 0 : x.count / values.count
        let src = x.data, dst = output.data
        for n in values.indices {
            let m = values[n]
            for i in n * perSample..<(n + 1) * perSample { dst[i] = src[i] * m }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.shape == output.shape, "DropPath: gradient \(dy.shape) does not match output \(output.shape)")
        inputGradient.resize(to: dy.shape)
        if maskActive {
            let samples = mask.count, perSample = samples == 0 ? 0 : dy.count / samples
            let g = dy.data, dx = inputGradient.data
            for n in 0..<samples {
                let m = mask.data[n]
                for i in n * perSample..<(n + 1) * perSample { dx[i] = g[i] * m }
            }
        } else {
            inputGradient.data.update(from: dy.data, count: dy.count)
        }
        return inputGradient
    }
}
