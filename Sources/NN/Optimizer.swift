import TensorCore

/// Updates parameters from their accumulated gradients.
public protocol Optimizer: AnyObject {
    var parameters: [Parameter] { get }
    /// The learning rate used by the next `step()` (schedules and lr scaling set it).
    var learningRate: Float { get set }
    /// One update from the current gradients.
    func step()
}

public extension Optimizer {
    /// Sets every parameter's gradient to zero (`optimizer.zero_grad(set_to_none=False)`).
    func zeroGradients() {
        for p in parameters { p.zeroGradient() }
    }
}
