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
    public let learningRate: Float
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

    /// The momentum buffer of `parameters[index]` (`optimizer.state[p]["momentum_buffer"]`); nil before
    /// the first step or without momentum. Read-only: the caller gets a copy.
    public func momentumBuffer(_ index: Int) -> [Float]? {
        buffers[index]?.array
    }

    public func step(learningRate lr: Float) {
        for (index, p) in parameters.enumerated() {
            let w = p.value.data, g = p.gradient.data, count = p.value.count
            guard momentum != 0 else {
                SGDKernels.plain(w, g, count: count, lr: lr, weightDecay: weightDecay)
                continue
            }
            if let buffer = buffers[index] {
                SGDKernels.momentum(w, g, buffer.data, count: count, lr: lr, weightDecay: weightDecay,
                                    momentum: momentum, dampening: dampening, nesterov: nesterov)
            } else {
                let buffer = Tensor(p.value.shape)
                buffers[index] = buffer
                SGDKernels.firstMomentum(w, g, buffer.data, count: count, lr: lr, weightDecay: weightDecay,
                                         momentum: momentum, nesterov: nesterov)
            }
        }
    }
}

/// The update loops of ``SGD``. Every setting is passed in as a local (a stored property
/// would be reloaded on each iteration, since the pointers might alias it), so the
/// loops vectorize; the common cases get loops without branches.
/// `d = g + weightDecay * w`, skipped when `weightDecay == 0` as PyTorch does.
enum SGDKernels {
    /// No momentum: `w -= lr * d`.
    static func plain(_ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, count: Int,
                      lr: Float, weightDecay: Float) {
        if weightDecay == 0 {
            for i in 0..<count { w[i] -= lr * g[i] }
        } else {
            for i in 0..<count { w[i] -= lr * (g[i] + weightDecay * w[i]) }
        }
    }

    /// The first momentum step: `buf = d`, then `w -= lr * (nesterov ? d + momentum * buf : buf)`.
    static func firstMomentum(_ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
                              _ buf: UnsafeMutablePointer<Float>, count: Int, lr: Float, weightDecay: Float,
                              momentum: Float, nesterov: Bool) {
        for i in 0..<count {
            let d = weightDecay == 0 ? g[i] : g[i] + weightDecay * w[i]
            buf[i] = d
            w[i] -= lr * (nesterov ? d + momentum * d : d)
        }
    }

    /// Later steps: `buf = momentum * buf + (1 - dampening) * d`, then
    /// `w -= lr * (nesterov ? d + momentum * buf : buf)`.
    static func momentum(_ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
                         _ buf: UnsafeMutablePointer<Float>, count: Int, lr: Float, weightDecay: Float,
                         momentum: Float, dampening: Float, nesterov: Bool) {
        let keep = 1 - dampening
        if weightDecay == 0 && !nesterov {  // the common case, as a branch-free loop
            for i in 0..<count {
                let b = momentum * buf[i] + keep * g[i]
                buf[i] = b
                w[i] -= lr * b
            }
            return
        }
        for i in 0..<count {
            let d = weightDecay == 0 ? g[i] : g[i] + weightDecay * w[i]
            let b = momentum * buf[i] + keep * d
            buf[i] = b
            w[i] -= lr * (nesterov ? d + momentum * b : b)
        }
    }
}
