import NN

/// How the learning rate follows the batch size, relative to `baseBatchSize`:
/// `lr_used = lr * f(batch_size / base_batch_size)` with `f(x) = 1`, `x`, or `sqrt(x)`.
public enum LRScaling: String, CaseIterable, Hashable, Sendable {
    case none, linear, sqrt

    public func scaledLearningRate(_ lr: Double, batchSize: Int, baseBatchSize: Int) -> Double {
        let ratio = Double(batchSize) / Double(baseBatchSize)
        switch self {
        case .none: return lr
        case .linear: return lr * ratio
        case .sqrt: return lr * ratio.squareRoot()
        }
    }
}

/// An optimizer with its hyper-parameters (PyTorch's meanings; see ``SGD`` and ``Adam``).
public enum OptimizerRecipe: Hashable, Sendable, CustomStringConvertible {
    case sgd(lr: Double, momentum: Double, dampening: Double, weightDecay: Double, nesterov: Bool)
    case adam(lr: Double, beta1: Double, beta2: Double, eps: Double, weightDecay: Double)
    case adamw(lr: Double, beta1: Double, beta2: Double, eps: Double, weightDecay: Double)

    public var learningRate: Double {
        switch self {
        case .sgd(let lr, _, _, _, _), .adam(let lr, _, _, _, _), .adamw(let lr, _, _, _, _): return lr
        }
    }

    /// The optimizer for `parameters`, with the learning rate `lr` (already scaled).
    public func make(parameters: [Parameter], learningRate lr: Double) throws -> Optimizer {
        switch self {
        case .sgd(_, let m, let d, let wd, let nesterov):
            return try SGD(parameters: parameters, learningRate: Float(lr), momentum: Float(m), dampening: Float(d),
                           weightDecay: Float(wd), nesterov: nesterov)
        case .adam(_, let b1, let b2, let eps, let wd):
            return try Adam(parameters: parameters, learningRate: Float(lr), beta1: Float(b1), beta2: Float(b2),
                            eps: Float(eps), weightDecay: Float(wd), decoupledWeightDecay: false)
        case .adamw(_, let b1, let b2, let eps, let wd):
            return try Adam(parameters: parameters, learningRate: Float(lr), beta1: Float(b1), beta2: Float(b2),
                            eps: Float(eps), weightDecay: Float(wd), decoupledWeightDecay: true)
        }
    }

    public var description: String {
        switch self {
        case .sgd(let lr, let m, let d, let wd, let n):
            return "sgd lr=\(lr) momentum=\(m) dampening=\(d) weight_decay=\(wd) nesterov=\(n ? "on" : "off")"
        case .adam(let lr, let b1, let b2, let eps, let wd):
            return "adam lr=\(lr) betas=\(b1),\(b2) eps=\(eps) weight_decay=\(wd)"
        case .adamw(let lr, let b1, let b2, let eps, let wd):
            return "adamw lr=\(lr) betas=\(b1),\(b2) eps=\(eps) weight_decay=\(wd)"
        }
    }
}
