import TensorCore

/// Updates parameters from their accumulated gradients.
public protocol Optimizer: AnyObject {
    var parameters: [Parameter] { get }
    /// The learning rate of every `step()`, fixed at construction (lr scaling is applied
    /// before: the harness builds the optimizer with the scaled rate; there are no schedules).
    var learningRate: Float { get }
    /// One update from the current gradients.
    func step()
}

public extension Optimizer {
    /// Sets every parameter's gradient to zero (`optimizer.zero_grad(set_to_none=False)`).
    func zeroGradients() {
        for p in parameters { p.zeroGradient() }
    }
}
