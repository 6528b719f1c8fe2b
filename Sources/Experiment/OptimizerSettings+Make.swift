import SpecFormat
import NN

extension OptimizerSettings {
    /// The optimizer for `parameters` with learning rate `lr` (already scaled by `lr_scaling`);
    /// PyTorch's meanings, see ``SGD`` and ``Adam``.
    public func make(parameters: [Parameter], learningRate lr: Double) throws -> Optimizer {
        switch self {
        case .sgd(let s):
            return try SGD(parameters: parameters, learningRate: Float(lr), momentum: s.momentum, dampening: s.dampening,
                           weightDecay: s.weightDecay, nesterov: s.nesterov)
        case .adam(let a):
            return try Adam(parameters: parameters, learningRate: Float(lr), beta1: a.beta1, beta2: a.beta2,
                            eps: a.eps, weightDecay: a.weightDecay, decoupledWeightDecay: false)
        case .adamw(let a):
            return try Adam(parameters: parameters, learningRate: Float(lr), beta1: a.beta1, beta2: a.beta2,
                            eps: a.eps, weightDecay: a.weightDecay, decoupledWeightDecay: true)
        }
    }
}
