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
    /// The evaluations after every epoch (``TrainingPlan/epochEval``), in epoch order; empty without.
    public var epochEvaluations: [EpochEvaluation] = []
}

/// The test split evaluated at the end of one epoch (`epoch_eval`; Wu & Johnson 2021's EMA against PreciseBN
/// during training): eval mode with the running statistics training left, and on a copy with
/// statistics re-estimated by PreciseBN (the cell's `recalibrate_*` settings).
public struct EpochEvaluation: Hashable, Sendable {
    /// 1-based.
    public var epoch: Int
    /// Eval-mode test accuracy (%) with the running statistics (the EMA of momentum).
    public var runningStatisticsAccuracy: Double
    /// Eval-mode test accuracy (%) after recalibrating a copy; nil when the layers refused it.
    public var preciseBNAccuracy: Double?

    public init(epoch: Int, runningStatisticsAccuracy: Double, preciseBNAccuracy: Double?) {
        self.epoch = epoch; self.runningStatisticsAccuracy = runningStatisticsAccuracy
        self.preciseBNAccuracy = preciseBNAccuracy
    }
}
