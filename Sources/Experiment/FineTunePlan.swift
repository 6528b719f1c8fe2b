import Datasets
import NN
import SpecFormat

/// The second training phase of a cell (`finetune_epochs`, `finetune_shift`, `freeze`): after the first
/// phase, only the classifier (``Sequential/classifier``, the last Linear, from its trained weights)
/// trains, on the training split with every input value shifted, `x' = x + shift`, while the other layers
/// (the feature layers) are frozen: their parameters never change, and their normalization layers run as
/// ``frozen`` says. Measured afterwards on the shifted splits (the deployment distribution).
///
/// The phase's ``TrainingPlan`` (``trainingPlan(after:)``) keeps the first phase's batch size, order,
/// `drop_last` and schedule; its optimizer is a fresh one of the cell's settings over the classifier's
/// parameters at `lr_used`, so step `t` of its `T2 = epochs * batches per epoch` steps has the rate
/// `lr_used * schedule.factor(t, T2)`: the cell's schedule restarted over the phase (warmup too).
public struct FineTunePlan: Hashable, Sendable {
    /// >= 1 (a cell without fine-tuning has no plan).
    public var epochs: Int
    /// Added to every input value of the fine-tuning data and of the measured splits.
    public var shift: Float
    public var frozen: FrozenNormalization

    public init(epochs: Int, shift: Float = 0, frozen: FrozenNormalization) {
        precondition(epochs >= 1, "fine-tuning: epochs must be >= 1, got \(epochs)")
        self.epochs = epochs; self.shift = shift; self.frozen = frozen
    }

    /// The phase's training plan after `first`: its batch size, order, `drop_last` and schedule, this
    /// plan's epochs, no step budget, FrozenBN epochs, validation, averaging or per-epoch evaluation,
    /// and the feature layers frozen (``TrainingPlan/frozenFeatures``).
    public func trainingPlan(after first: TrainingPlan) -> TrainingPlan {
        TrainingPlan(epochs: epochs, batchSize: first.batchSize, order: first.order, dropLast: first.dropLast,
                     schedule: first.schedule, frozenFeatures: frozen)
    }

    /// `data` with every input value shifted, `x' = x + shift` (labels and overlap unchanged).
    public func shifted(_ data: PreparedData) -> PreparedData {
        PreparedData(train: shifted(data.train), test: shifted(data.test), testOverlap: data.testOverlap)
    }

    /// `dataset` with every input value shifted, `x' = x + shift`.
    public func shifted(_ dataset: ImageDataset) -> ImageDataset {
        guard shift != 0 else { return dataset }
        var moved = dataset
        moved.images = dataset.images.map { $0 + shift }
        return moved
    }
}

/// What the frozen feature layers' normalization does in each fine-tuning epoch: a ``FreezeMethod``
/// resolved to the phases it trains with, so that methods that train alike (`eval` and `keras`) have
/// equal plans and share one training (``TrainedModelCache``).
public enum FrozenNormalization: Hashable, Sendable {
    /// `requires-grad`: train mode, batch statistics, running statistics updated.
    case train
    /// `eval`, `keras`: eval mode, the running statistics, unchanged.
    case eval
    /// `keras-tf1`: batch statistics, running statistics unchanged (``NormalizationPhase/trainWithoutUpdate``).
    case trainWithoutUpdate
    /// `eval-then-train`: eval mode for the first `evalEpochs` epochs (until the first validation's
    /// blanket `model.train()`), train mode after.
    case evalThenTrain(evalEpochs: Int)

    /// The plan of `method`; `eval-then-train` validates after every epoch, so its eval mode lasts one epoch.
    public init(_ method: FreezeMethod) {
        switch method {
        case .requiresGrad: self = .train
        case .eval, .keras: self = .eval
        case .kerasTF1: self = .trainWithoutUpdate
        case .evalThenTrain: self = .evalThenTrain(evalEpochs: 1)
        }
    }

    /// The phase of the feature layers' normalization in fine-tuning epoch `e` (1-based).
    public func phase(epoch e: Int) -> NormalizationPhase {
        switch self {
        case .train: return .train
        case .eval: return .eval
        case .trainWithoutUpdate: return .trainWithoutUpdate
        case .evalThenTrain(let evalEpochs): return e <= evalEpochs ? .eval : .train
        }
    }
}
