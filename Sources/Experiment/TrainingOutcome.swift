/// Where training stopped because the loss stopped being a finite number.
public struct Divergence: Hashable, Sendable, CustomStringConvertible {
    /// 1-based epoch and step within it.
    public var epoch: Int
    public var step: Int
    public var description: String { "epoch \(epoch) step \(step)" }
}

/// What a training run reports.
public struct TrainingOutcome: Sendable {
    /// Accuracy (%) accumulated over the last epoch's batches, in the training mode,
    /// before each step's update: what a training loop prints.
    public var runningAccuracy: Double
    /// Mean loss over the last epoch's batches.
    public var finalLoss: Double
    public var steps: Int
    public var divergence: Divergence?
    /// Accuracy (%) of the last epoch's validation pass (``TrainingPlan/validation``); nil without one.
    public var lastValidationAccuracy: Double? = nil
}
