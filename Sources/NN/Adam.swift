import Foundation
import TensorCore

/// Adam (Kingma & Ba 2015) as `torch.optim.Adam`, and AdamW (Loshchilov & Hutter 2019)
/// as `torch.optim.AdamW` when `decoupledWeightDecay` is true. Per parameter, step `t`:
/// ```
/// Adam:  g = g + weight_decay * p          AdamW: p = p * (1 - lr * weight_decay)
/// m = m + (1 - beta1) * (g - m)            (torch's lerp)
/// v = beta2 * v + (1 - beta2) * g * g
/// p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
/// ```
public final class Adam: Optimizer {
    public let parameters: [Parameter]
    public let learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let eps: Float
    public let weightDecay: Float
    public let decoupledWeightDecay: Bool
    public private(set) var stepCount = 0
    private let firstMoments: [Tensor]
    private let secondMoments: [Tensor]

    public init(parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false) throws {
        guard learningRate >= 0, eps >= 0, weightDecay >= 0 else {
            throw LayerError(layer: "Adam", "lr, eps and weight decay must be >= 0 (got \(learningRate), \(eps), \(weightDecay))")
        }
        guard (0..<1).contains(beta1), (0..<1).contains(beta2) else {
            throw LayerError(layer: "Adam", "betas must be in [0, 1), got (\(beta1), \(beta2))")
        }
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        firstMoments = parameters.map { Tensor($0.value.shape) }
        secondMoments = parameters.map { Tensor($0.value.shape) }
    }

    public func step(learningRate lr: Float) {
        stepCount += 1
        let t = Double(stepCount)
        let biasCorrection1 = 1 - pow(Double(beta1), t)
        let biasCorrection2Sqrt = (1 - pow(Double(beta2), t)).squareRoot()
        let stepSize = Float(Double(lr) / biasCorrection1)
        let bc2 = Float(biasCorrection2Sqrt)
        for (index, p) in parameters.enumerated() {
            let w = p.value.data, grad = p.gradient.data, count = p.value.count
            let m = firstMoments[index].data, v = secondMoments[index].data
            if decoupledWeightDecay && weightDecay != 0 {
                let shrink = 1 - lr * weightDecay
                for i in 0..<count { w[i] *= shrink }
            }
            for i in 0..<count {
                let g = decoupledWeightDecay ? grad[i] : grad[i] + weightDecay * w[i]
                m[i] += (1 - beta1) * (g - m[i])
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                let denom = v[i].squareRoot() / bc2 + eps
                w[i] -= stepSize * m[i] / denom
            }
        }
    }
}
