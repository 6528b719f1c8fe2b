import Datasets
import SpecFormat
import NN
import TensorCore

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
}

/// Settings of the training loop.
///
/// The budget is `steps` optimizer steps when `steps > 0` (as many epochs as they need, the last one
/// cut at the budget), else `epochs` full epochs; T, the total steps, is what the schedule spans.
public struct TrainingPlan: Hashable, Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var order: BatchOrder
    public var dropLast: Bool
    /// FrozenBN (Wu & Johnson 2021): the last `frozenEpochs` epochs run BatchNorm in eval mode.
    public var frozenEpochs: Int
    /// The step budget; 0 = `epochs` decides.
    public var steps: Int
    /// The learning rate of each step as a factor of the optimizer's.
    public var schedule: LRSchedule

    public init(epochs: Int, batchSize: Int, order: BatchOrder = .shuffled, dropLast: Bool = true, frozenEpochs: Int = 0,
                steps: Int = 0, schedule: LRSchedule = LRSchedule()) {
        self.epochs = epochs; self.batchSize = batchSize; self.order = order
        self.dropLast = dropLast; self.frozenEpochs = frozenEpochs; self.steps = steps; self.schedule = schedule
    }

    /// The epochs that run when an epoch has `batchesPerEpoch` batches: `epochs`, or as many as
    /// `steps` need (at least one).
    public func epochCount(batchesPerEpoch: Int) -> Int {
        guard steps > 0, batchesPerEpoch > 0 else { return epochs }
        return max(1, (steps + batchesPerEpoch - 1) / batchesPerEpoch)
    }

    /// T, the optimizer steps of the whole training.
    public func totalSteps(batchesPerEpoch: Int) -> Int {
        steps > 0 && batchesPerEpoch > 0 ? steps : epochs * batchesPerEpoch
    }

    /// The mode of epoch `e` (1-based) of `epochCount`: `.train`, or BatchNorm frozen in the last `frozenEpochs`.
    public func mode(epoch e: Int, of epochCount: Int) -> Mode {
        e > epochCount - frozenEpochs ? Mode(normalization: .eval, dropout: .train) : .train
    }

    /// The mode of epoch `e` (1-based) of an epoch budget.
    public func mode(epoch e: Int) -> Mode { mode(epoch: e, of: epochs) }
}

/// The training loop: `zero_grad; forward; loss; backward; step` per batch.
public enum Trainer {
    /// Trains `model` in place. `rng` draws the batch order. Stops at the first
    /// non-finite loss and reports where. Throws what the layers throw (e.g. BatchNorm
    /// training on one value per channel). `observer` sees the initial model and every step.
    public static func train(model: Sequential, optimizer: Optimizer, data: ImageDataset, plan: TrainingPlan,
                             rng: inout RandomGenerator, onEpoch: ((Int) -> Void)? = nil,
                             observer: TrainingObserver? = nil) throws -> TrainingOutcome {
        let assembler = BatchAssembler()
        let loss = SoftmaxCrossEntropy()
        var outcome = TrainingOutcome(runningAccuracy: .nan, finalLoss: .nan, steps: 0, divergence: nil)
        let perEpoch = plan.order.batchCount(labels: data.labels, batchSize: plan.batchSize, dropLast: plan.dropLast)
        let epochCount = plan.epochCount(batchesPerEpoch: perEpoch)
        let totalSteps = plan.totalSteps(batchesPerEpoch: perEpoch)
        observer?.trainingWillStart(model: model)
        for epoch in 1...epochCount {
            onEpoch?(epoch)
            let mode = plan.mode(epoch: epoch, of: epochCount)
            var batches = plan.order.batches(labels: data.labels, batchSize: plan.batchSize, dropLast: plan.dropLast, rng: &rng)
            batches = Array(batches.prefix(totalSteps - outcome.steps))  // the step budget cuts the last epoch
            var correct = 0, seen = 0, lossSum = 0.0
            for (step, batch) in batches.enumerated() {
                let rate = Float(Double(optimizer.learningRate)
                                 * plan.schedule.factor(step: outcome.steps, totalSteps: totalSteps))
                assembler.assemble(data, indices: batch)
                optimizer.zeroGradients()
                let logits = try model.forward(assembler.input, mode: mode)
                let (value, batchCorrect) = assembler.labels.withUnsafeBufferPointer {
                    loss.forward(logits: logits, labels: $0)
                }
                outcome.steps += 1
                guard value.isFinite else {
                    outcome.divergence = Divergence(epoch: epoch, step: step + 1)
                    outcome.runningAccuracy = seen > 0 ? 100 * Double(correct) / Double(seen) : .nan
                    outcome.finalLoss = Double(value)
                    return outcome
                }
                correct += batchCorrect
                seen += batch.count
                lossSum += Double(value)
                _ = model.backward(loss.gradient)
                optimizer.step(learningRate: rate)
                observer?.stepFinished(TrainingStep(epoch: epoch, step: step + 1, batch: batch, loss: value,
                                                    learningRate: rate), model: model)
            }
            outcome.runningAccuracy = seen > 0 ? 100 * Double(correct) / Double(seen) : .nan
            outcome.finalLoss = batches.isEmpty ? .nan : lossSum / Double(batches.count)
        }
        return outcome
    }
}
