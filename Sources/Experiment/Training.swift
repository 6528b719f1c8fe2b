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
public struct TrainingPlan: Hashable, Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var order: BatchOrder
    public var dropLast: Bool
    /// FrozenBN (Wu & Johnson 2021): the last `frozenEpochs` epochs run BatchNorm in eval mode.
    public var frozenEpochs: Int

    public init(epochs: Int, batchSize: Int, order: BatchOrder = .shuffled, dropLast: Bool = true, frozenEpochs: Int = 0) {
        self.epochs = epochs; self.batchSize = batchSize; self.order = order
        self.dropLast = dropLast; self.frozenEpochs = frozenEpochs
    }

    /// The mode of epoch `e` (1-based): `.train`, or BatchNorm frozen in the last `frozenEpochs`.
    public func mode(epoch e: Int) -> Mode {
        e > epochs - frozenEpochs ? Mode(normalization: .eval, dropout: .train) : .train
    }
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
        observer?.trainingWillStart(model: model)
        for epoch in 1...plan.epochs {
            onEpoch?(epoch)
            let mode = plan.mode(epoch: epoch)
            let batches = plan.order.batches(labels: data.labels, batchSize: plan.batchSize, dropLast: plan.dropLast, rng: &rng)
            var correct = 0, seen = 0, lossSum = 0.0
            for (step, batch) in batches.enumerated() {
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
                optimizer.step()
                observer?.stepFinished(TrainingStep(epoch: epoch, step: step + 1, batch: batch, loss: value), model: model)
            }
            outcome.runningAccuracy = seen > 0 ? 100 * Double(correct) / Double(seen) : .nan
            outcome.finalLoss = batches.isEmpty ? .nan : lossSum / Double(batches.count)
        }
        return outcome
    }
}
