import TensorCore

/// Updates parameters from their accumulated gradients.
public protocol Optimizer: AnyObject {
    var parameters: [Parameter] { get }
    /// The base learning rate, fixed at construction (lr scaling is applied before: the harness
    /// builds the optimizer with the scaled rate). A schedule passes each step's rate to
    /// ``step(learningRate:)``, as a `torch.optim.lr_scheduler` sets `param_group["lr"]`.
    var learningRate: Float { get }
    /// One update from the current gradients with learning rate `lr` (this step's value of the schedule).
    func step(learningRate lr: Float)
}

public extension Optimizer {
    /// One update at the base learning rate.
    func step() { step(learningRate: learningRate) }

    /// Sets every parameter's gradient to zero (`optimizer.zero_grad(set_to_none=False)`).
    func zeroGradients() {
        for p in parameters { p.zeroGradient() }
    }
}
