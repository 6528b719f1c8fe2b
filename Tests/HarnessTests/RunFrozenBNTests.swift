import Charts
import Datasets
import Experiment
import SpecFormat
import NN
import TensorCore
import XCTest

/// FrozenBN (`frozen_bn_epochs`): the last K epochs train with BatchNorm on its running
/// statistics, which therefore stop changing, while the weights keep training.
final class RunFrozenBNTests: XCTestCase {
    static let frozen = Mode(normalization: .eval, dropout: .train)

    func testModeOfEachEpoch() {
        XCTAssertEqual((1...5).map { TrainingPlan(epochs: 5, batchSize: 2, frozenEpochs: 2).mode(epoch: $0) },
                       [.train, .train, .train, Self.frozen, Self.frozen])
        XCTAssertEqual((1...3).map { TrainingPlan(epochs: 3, batchSize: 2).mode(epoch: $0) }, [.train, .train, .train])
        XCTAssertEqual((1...3).map { TrainingPlan(epochs: 3, batchSize: 2, frozenEpochs: 3).mode(epoch: $0) },
                       [Self.frozen, Self.frozen, Self.frozen])
    }

    func testRunningStatisticsDoNotChangeDuringFrozenEpochsButWeightsDo() throws {
        var dataRNG = RandomGenerator(seed: 6)
        let data = Shapes.generate(count: 24, size: 12, rng: &dataRNG)
        let model = try ModelRecipe(architecture: .mlp(widths: [5]), dropout: 0.2)
            .build(channels: 1, height: 12, width: 12, classes: 3, rng: RandomGenerator(seed: 7))
        let optimizer = try OptimizerSettings.sgd(SGDSettings(learningRate: 0.05)).make(parameters: model.parameters,
                                                                                      learningRate: 0.05)
        var statistics: [[RunningStatistics]] = []
        var weights: [[[Float]]] = []
        func record() {
            statistics.append(runningStatistics(model))
            weights.append(model.parameters.map(\.value.array))
        }
        var rng = RandomGenerator(seed: 8)
        let outcome = try Trainer.train(model: model, optimizer: optimizer, data: data,
                                        plan: TrainingPlan(epochs: 3, batchSize: 4, frozenEpochs: 2), rng: &rng) { _, _ in record() }
        record()  // after the last epoch
        XCTAssertNil(outcome.divergence)
        XCTAssertEqual(outcome.steps, 18)
        // statistics[e] = before epoch e + 1
        XCTAssertNotEqual(statistics[1], statistics[0], "epoch 1 trains BatchNorm in train mode")
        XCTAssertEqual(statistics[1][0].batchesTracked, 6)
        XCTAssertEqual(statistics[2], statistics[1], "epoch 2 is frozen")
        XCTAssertEqual(statistics[3], statistics[1], "epoch 3 is frozen")
        XCTAssertNotEqual(weights[2], weights[1], "the weights train in frozen epochs")
        XCTAssertNotEqual(weights[3], weights[2])
    }
}
