import Datasets
@testable import Experiment
import NN
import SpecFormat
import TensorCore
import XCTest

/// `validation`: the per-epoch validation pass of a training loop. Under `no_grad` without
/// `model.eval()` (`train-mode`) it updates the running statistics; with `model.eval()` it does not.
final class RunValidationTests: XCTestCase {
    /// 2 epochs of a BatchNorm MLP without dropout on 24 shapes (batch 8, so 3 steps an epoch) with a
    /// validation pass over 10 test images in batches of 4 (3 batches) after each epoch.
    private func train(_ validation: ValidationMode) throws -> (model: Sequential, outcome: TrainingOutcome) {
        var trainRNG = RandomGenerator(seed: 5), testRNG = RandomGenerator(seed: 6)
        let train = Shapes.generate(count: 24, size: 12, rng: &trainRNG)
        let test = Shapes.generate(count: 10, size: 12, rng: &testRNG)
        let model = try ModelRecipe(architecture: .mlp(widths: [6]))
            .build(channels: 1, height: 12, width: 12, classes: 3, rng: RandomGenerator(seed: 7))
        let optimizer = try OptimizerSettings.sgd(SGDSettings(learningRate: 0.05)).make(parameters: model.parameters,
                                                                                        learningRate: 0.05)
        var rng = RandomGenerator(seed: 8)
        let plan = TrainingPlan(epochs: 2, batchSize: 8, validation: validation, validationBatchSize: 4)
        let outcome = try Trainer.train(model: model, optimizer: optimizer, data: train, plan: plan, rng: &rng,
                                        validationData: test)
        return (model, outcome)
    }

    func testTrainModeValidationMovesTheRunningStatisticsAndEvalValidationDoesNot() throws {
        let off = try train(.off), eval = try train(.eval), trainMode = try train(.trainMode)
        let offStatistics = off.model.runningStatisticsLayers[0].snapshotRunningStatistics()
        let evalStatistics = eval.model.runningStatisticsLayers[0].snapshotRunningStatistics()
        let trainModeStatistics = trainMode.model.runningStatisticsLayers[0].snapshotRunningStatistics()
        XCTAssertEqual(evalStatistics, offStatistics, "eval-mode validation leaves the buffers alone")
        XCTAssertEqual(offStatistics.batchesTracked, 2 * 3)
        XCTAssertEqual(trainModeStatistics.batchesTracked, 2 * 3 + 2 * 3, "every validation batch counts")
        XCTAssertNotEqual(trainModeStatistics.mean, offStatistics.mean)
        // Training itself reads no running statistics (and there is no dropout): the weights are equal.
        XCTAssertEqual(trainMode.model.parameters.map { $0.value.array }, off.model.parameters.map { $0.value.array })
        XCTAssertNil(off.outcome.lastValidationAccuracy)
        XCTAssertNotNil(eval.outcome.lastValidationAccuracy)
        XCTAssertNotNil(trainMode.outcome.lastValidationAccuracy)
    }
}
