import Datasets
import SpecFormat
import NN
import TensorCore

/// The training loop: `zero_grad; forward; loss; backward; step` per batch.
public enum Trainer {
    /// Trains `model` in place. `rng` draws the batch order. Stops at the first
    /// non-finite loss and reports where. Throws what the layers throw (e.g. BatchNorm
    /// training on one value per channel). `observer` sees the initial model and every step.
    /// With `plan.validation`, every epoch ends with a validation pass over `validationData`
    /// (in its order, batches of `plan.validationBatchSize`) in the plan's validation mode, on
    /// the model itself: in train mode it updates the running statistics and draws dropout masks.
    /// `averaging` (``WeightAveraging``) is updated after every step and at the end of every epoch's steps
    /// (before its validation pass); `epochFinished` sees the model after each epoch and its validation pass,
    /// with the epoch and the epoch count, and must not change it. Every pass runs on `threads` (no number
    /// depends on them).
    /// With ``TrainingPlan/frozenFeatures`` only the classifier learns: `optimizer` must hold exactly its
    /// parameters, and backward runs through it alone (as autograd stops where no earlier tensor requires a
    /// gradient), while the forward runs the whole model in the plan's mode.
    public static func train(model: Sequential, optimizer: Optimizer, data: ImageDataset, plan: TrainingPlan,
                             rng: inout RandomGenerator, validationData: ImageDataset? = nil,
                             onEpoch: ((_ epoch: Int, _ of: Int) -> Void)? = nil,
                             observer: TrainingObserver? = nil, averaging: WeightAveraging? = nil,
                             epochFinished: ((Int, Int, Sequential) throws -> Void)? = nil,
                             threads: ComputeThreads = .serial) throws -> TrainingOutcome {
        precondition(plan.validation == .off || validationData != nil, "validation \(plan.validation) needs validation data")
        let assembler = BatchAssembler()
        let loss = SoftmaxCrossEntropy()
        var outcome = TrainingOutcome(runningAccuracy: .nan, finalLoss: .nan, steps: 0, divergence: nil)
        let perEpoch = plan.batchesPerEpoch(labels: data.labels)
        let epochCount = plan.epochCount(batchesPerEpoch: perEpoch)
        let totalSteps = plan.totalSteps(batchesPerEpoch: perEpoch)
        let learner: Layer = plan.frozenFeatures == nil ? model : try classifier(of: model)
        precondition(learner === model || optimizer.parameters.map(ObjectIdentifier.init)
                        == learner.parameters.map(ObjectIdentifier.init),
                     "training with frozen features: the optimizer must hold the classifier's parameters alone")
        observer?.trainingWillStart(model: model)
        for epoch in 1...epochCount {
            onEpoch?(epoch, epochCount)
            let mode = plan.mode(epoch: epoch, of: epochCount).on(threads)
            var batches = plan.order.batches(labels: data.labels, batchSize: plan.batchSize, dropLast: plan.dropLast, rng: &rng)
            if outcome.steps + batches.count > totalSteps {  // the step budget cuts the last epoch
                batches.removeLast(outcome.steps + batches.count - totalSteps)
            }
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
                _ = learner.backward(loss.gradient)
                optimizer.step(learningRate: rate)
                averaging?.stepFinished(live: model)
                observer?.stepFinished(TrainingStep(epoch: epoch, step: step + 1, batch: batch, loss: value,
                                                    learningRate: rate), model: model)
            }
            outcome.runningAccuracy = seen > 0 ? 100 * Double(correct) / Double(seen) : .nan
            outcome.finalLoss = batches.isEmpty ? .nan : lossSum / Double(batches.count)
            // device_bn reduce: the ranks' running statistics averaged after each epoch (timm's distribute_bn)
            model.distributeRunningStatistics()
            averaging?.epochFinished(live: model, epoch: epoch, of: epochCount)
            if let validationMode = plan.validationPassMode, let validationData {
                outcome.lastValidationAccuracy = try Evaluation.accuracy(
                    model: model, data: validationData, batchSize: plan.validationBatchSize,
                    mode: validationMode.on(threads)
                ).correct.percent
            }
            try epochFinished?(epoch, epochCount, model)
        }
        return outcome
    }

    /// The classifier that training with frozen features updates (``Sequential/classifier``); throws for a
    /// model whose last layer is not a Linear.
    public static func classifier(of model: Sequential) throws -> Linear {
        guard let classifier = model.classifier else {
            throw LayerError(layer: "model", "fine-tuning the classifier needs a model whose last layer is a Linear,"
                             + " got \(model.layers.last?.name ?? "no layer")")
        }
        return classifier
    }
}
