import NN
import SpecFormat

/// Settings of the training loop.
///
/// The budget is `steps` optimizer steps when `steps > 0` (as many epochs as they need, the last one
/// cut at the budget), else `max(epochs, ceil(minSteps / B))` full epochs of B batches; T, the total
/// steps, is what the schedule spans.
public struct TrainingPlan: Hashable, Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var order: BatchOrder
    public var dropLast: Bool
    /// FrozenBN (Wu & Johnson 2021): the last `frozenEpochs` epochs run BatchNorm in eval mode.
    public var frozenEpochs: Int
    /// The step budget; 0 = `epochs` decides.
    public var steps: Int
    /// With an epoch budget, the fewest steps: whole epochs until there are at least this many; 0 = none.
    public var minSteps: Int
    /// The learning rate of each step as a factor of the optimizer's.
    public var schedule: LRSchedule
    /// The validation pass after every epoch over the test split, and its batch size.
    public var validation: ValidationMode
    public var validationBatchSize: Int
    /// The averaged model kept beside the training (`weight_average`); nil = none.
    public var weightAverage: WeightAveragePlan?
    /// Evaluate after every epoch (`epoch_eval`): ``TrainingOutcome/epochEvaluations``.
    public var epochEval: Bool
    /// nil: every layer trains. Otherwise only the classifier (the model's last layer, a Linear) trains,
    /// the optimizer holding its parameters alone, backward stopping at it; the other layers are frozen
    /// and their normalization runs in this plan's phase of each epoch (fine-tuning, ``FineTunePlan``).
    public var frozenFeatures: FrozenNormalization?

    public init(epochs: Int, batchSize: Int, order: BatchOrder = .shuffled, dropLast: Bool = true, frozenEpochs: Int = 0,
                steps: Int = 0, minSteps: Int = 0, schedule: LRSchedule = LRSchedule(), validation: ValidationMode = .off,
                validationBatchSize: Int = 128, weightAverage: WeightAveragePlan? = nil, epochEval: Bool = false,
                frozenFeatures: FrozenNormalization? = nil) {
        self.epochs = epochs; self.batchSize = batchSize; self.order = order
        self.dropLast = dropLast; self.frozenEpochs = frozenEpochs; self.steps = steps; self.minSteps = minSteps
        self.schedule = schedule
        self.validation = validation; self.validationBatchSize = validationBatchSize
        self.weightAverage = weightAverage; self.epochEval = epochEval; self.frozenFeatures = frozenFeatures
    }

    /// The mode of the validation pass: `nil` when there is none.
    public var validationPassMode: Mode? {
        switch validation {
        case .off: return nil
        case .eval: return .eval
        case .trainMode: return .train
        }
    }

    /// B, the batches of one epoch over a split with these `labels` (``BatchOrder/batchCount(labels:batchSize:dropLast:)``).
    public func batchesPerEpoch(labels: [Int32]) -> Int {
        order.batchCount(labels: labels, batchSize: batchSize, dropLast: dropLast)
    }

    /// The epochs that run when an epoch has `batchesPerEpoch` batches (B): as many as `steps` need (at
    /// least one), else `max(epochs, ceil(minSteps / B))`.
    public func epochCount(batchesPerEpoch: Int) -> Int {
        guard batchesPerEpoch > 0 else { return epochs }
        if steps > 0 { return max(1, (steps + batchesPerEpoch - 1) / batchesPerEpoch) }
        return max(epochs, (minSteps + batchesPerEpoch - 1) / batchesPerEpoch)
    }

    /// T, the optimizer steps of the whole training.
    public func totalSteps(batchesPerEpoch: Int) -> Int {
        steps > 0 && batchesPerEpoch > 0 ? steps : epochCount(batchesPerEpoch: batchesPerEpoch) * batchesPerEpoch
    }

    /// The mode of epoch `e` (1-based) of `epochCount`: `.train`, or BatchNorm frozen in the last `frozenEpochs`;
    /// with ``frozenFeatures``, its phase of epoch `e` with dropout on.
    public func mode(epoch e: Int, of epochCount: Int) -> Mode {
        if let frozenFeatures { return Mode(normalization: frozenFeatures.phase(epoch: e), dropout: .train) }
        return e > epochCount - frozenEpochs ? Mode(normalization: .eval, dropout: .train) : .train
    }

    /// The mode of epoch `e` (1-based) of an epoch budget.
    public func mode(epoch e: Int) -> Mode { mode(epoch: e, of: epochs) }
}
