import TensorCore

/// Dropout (Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov 2014, "Dropout: A Simple Way
/// to Prevent Neural Networks from Overfitting"), by default as `torch.nn.Dropout(p)`.
///
/// Legend: any shape; `p` = ``dropProbability``, the probability of DROPPING a unit; `b ~ Bernoulli(1 - p)`
/// per value. The two conventions (``Convention``) differ in where the factor `1 - p` goes:
/// - `.inverted` (PyTorch's, `torch.nn.Dropout`; the default): train `y = x * b / (1 - p)`, eval `y = x`;
/// - `.classical` (the paper's section 4 and seed 001: "scale by p at test time", p there the
///   probability of keeping): train `y = x * b`, eval `y = (1 - p) * x`.
/// Both keep `E_train[y] = y_eval` for every unit: `(1 - p) * x / (1 - p) = x` and `(1 - p) * x`.
/// A model trained in one convention and evaluated with the other's eval rule is off by the factor
/// `1 - p` (classical weights without the factor: `1 / (1 - p)` too large; inverted ones with it).
///
/// `activeInEval` is the functional-dropout bug (pytorch/pytorch#26338: `F.dropout(x, p)` defaults
/// to `training=True`, so a model's `eval()` does not reach it): the layer then ignores the mode
/// and always runs its train-mode rule, drawing masks in eval mode too.
///
/// Forward keeps the mask (per value, `b / (1 - p)` inverted or `b` classical, or the constant `1 - p`
/// of the classical eval rule) for backward: `dx = dy * mask`, `dx = dy` for the identity.
///
/// The layer owns its random stream (seeded at construction, copied by `clone()`), so masks are
/// reproducible and no generator is shared.
public final class Dropout: StochasticLayer {
    /// Where the factor `1 - p` is applied (see ``Dropout``).
    public enum Convention: String, CaseIterable, Hashable, Sendable {
        /// Train: kept units scaled by `1 / (1 - p)`; eval: the identity (PyTorch).
        case inverted
        /// Train: kept units unscaled; eval: `y = (1 - p) * x` (Srivastava et al. 2014).
        case classical
    }

    public let dropProbability: Float
    public let convention: Convention
    /// The functional-dropout bug: train-mode rule in every mode.
    public let activeInEval: Bool
    public private(set) var rng: RandomGenerator

    private let mask = Tensor()
    /// Whether the last forward drew a mask (train-mode rule).
    private var maskActive = false
    /// Whether the last forward scaled by the constant `1 - p` (the classical eval rule).
    private var scaledActive = false
    private let output = Tensor()
    private let inputGradient = Tensor()

    /// - Parameters:
    ///   - p: probability of dropping, in [0, 1).
    ///   - convention: where `1 - p` goes; PyTorch's `.inverted` by default.
    ///   - activeInEval: the functional-dropout bug (dropout on in eval mode); off by default.
    public init(p: Float, rng: RandomGenerator, convention: Convention = .inverted, activeInEval: Bool = false) throws {
        guard p >= 0 && p < 1 else {
            throw LayerError(layer: "Dropout", "p must be in [0, 1), got \(p)")
        }
        dropProbability = p
        self.convention = convention
        self.activeInEval = activeInEval
        self.rng = rng
    }

    public var name: String {
        "Dropout(p=\(dropProbability)" + (convention == .inverted ? "" : ", \(convention.rawValue)")
            + (activeInEval ? ", active in eval" : "") + ")"
    }

    public func clone() -> Dropout {
        try! Dropout(p: dropProbability, rng: rng, convention: convention, activeInEval: activeInEval)
    }

    /// The mask of the last forward, one value per input value: `1 / (1 - p)` (classical: 1) where the
    /// value was kept, 0 where it was dropped; nil when that forward ran the eval rule (or there was none). Recording a
    /// run reads it (`bnlab export-training`); reading changes nothing.
    public var lastMask: [Float]? { maskActive ? mask.array : nil }

    /// Replaces the random stream (Monte-Carlo dropout draws a fresh stream per pass).
    public func reseed(_ generator: RandomGenerator) { rng = generator }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        output.resize(to: x.shape)
        switch activeInEval ? Phase.train : mode.dropout {
        case .eval:
            maskActive = false
            switch convention {
            case .inverted:
                scaledActive = false
                output.data.update(from: x.data, count: x.count)
            case .classical:
                scaledActive = true
                let keep = 1 - dropProbability, src = x.data, dst = output.data
                for i in 0..<x.count { dst[i] = src[i] * keep }
            }
        case .train:
            maskActive = true
            scaledActive = false
            mask.resize(to: x.shape)
            let scale = convention == .inverted ? 1 / (1 - dropProbability) : 1
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
        scaledActive = false
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
        } else if scaledActive {
            let keep = 1 - dropProbability, g = dy.data, dx = inputGradient.data
            for i in 0..<dy.count { dx[i] = g[i] * keep }
        } else {
            inputGradient.data.update(from: dy.data, count: dy.count)
        }
        return inputGradient
    }
}
