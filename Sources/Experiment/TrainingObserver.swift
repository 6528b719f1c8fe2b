import NN

/// One finished optimizer step of ``Trainer/train(model:optimizer:data:plan:rng:onEpoch:observer:)``.
public struct TrainingStep: Sendable {
    /// 1-based epoch, and step within it.
    public var epoch: Int
    public var step: Int
    /// The samples of the batch, as indices into the training split, in batch order.
    public var batch: [Int]
    /// The loss of the batch (mean cross-entropy), computed before the update.
    public var loss: Float
    /// The learning rate of the update (the schedule's value at this step).
    public var learningRate: Float
}

/// Watches a training run without changing it (`bnlab export-training` records one with it). It may
/// read the model's parameters, running statistics and last dropout masks; it must not change them.
public protocol TrainingObserver: AnyObject {
    /// Before the first step, with the model as initialized.
    func trainingWillStart(model: Sequential)
    /// After each optimizer step (not after a step whose loss was not finite: no update happened).
    func stepFinished(_ step: TrainingStep, model: Sequential)
}
