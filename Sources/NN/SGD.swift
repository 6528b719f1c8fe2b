import TensorCore

/// Stochastic gradient descent exactly as `torch.optim.SGD` applies it, per parameter `p` with gradient `g`:
/// ```
/// g = g + weight_decay * p                       (L2 penalty, coupled)
/// if momentum != 0:
///     buf = g                        on the first step
///     buf = momentum * buf + (1 - dampening) * g  afterwards
///     g = g + momentum * buf  if nesterov  else  buf
/// p = p - lr * g
/// ```
/// Nesterov needs `momentum > 0` and `dampening == 0` (PyTorch's rule).
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let momentum: Float
    public let dampening: Float
    public let weightDecay: Float
    public let nesterov: Bool
    private var buffers: [Tensor?]

    public init(parameters: [Parameter], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) throws {
        guard learningRate >= 0 else { throw LayerError(layer: "SGD", "learning rate must be >= 0, got \(learningRate)") }
        guard momentum >= 0 else { throw LayerError(layer: "SGD", "momentum must be >= 0, got \(momentum)") }
        guard weightDecay >= 0 else { throw LayerError(layer: "SGD", "weight decay must be >= 0, got \(weightDecay)") }
        guard !nesterov || (momentum > 0 && dampening == 0) else {
            throw LayerError(layer: "SGD", "Nesterov momentum requires a momentum and zero dampening")
        }
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        buffers = Array(repeating: nil, count: parameters.count)
    }

    public func step() {
        let lr = learningRate
        for (index, p) in parameters.enumerated() {
            let w = p.value.data, g = p.gradient.data, count = p.value.count
            guard momentum != 0 else {
                for i in 0..<count { w[i] -= lr * (g[i] + weightDecay * w[i]) }
                continue
            }
            let first = buffers[index] == nil
            if first { buffers[index] = Tensor(p.value.shape) }
            let buf = buffers[index]!.data
            for i in 0..<count {
                let d = g[i] + weightDecay * w[i]
                buf[i] = first ? d : momentum * buf[i] + (1 - dampening) * d
                let update = nesterov ? d + momentum * buf[i] : buf[i]
                w[i] -= lr * update
            }
        }
    }
}
