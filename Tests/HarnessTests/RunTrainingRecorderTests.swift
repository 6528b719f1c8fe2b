import Datasets
@testable import Experiment
import NN
import SpecFormat
import TensorCore
import XCTest

/// `TrainingRecorder`: recording a run changes none of its numbers, and what it records is the run.
final class RunTrainingRecorderTests: XCTestCase {
    private func cell(dropout: Float, epochs: Int = 2, batchSize: Int = 4, dropLast: Bool = true) -> Cell {
        Cell(model: ModelRecipe(architecture: .cnn(channels: [3], kernel: 3), dropout: dropout),
             optimizer: .sgd(SGDSettings(learningRate: 0.05, momentum: 0.9)),
             training: TrainingPlan(epochs: epochs, batchSize: batchSize, dropLast: dropLast),
             evaluation: EvaluationPlan(evalBatchSize: 7, recalibrateBatchSize: 5), seed: 5)
    }

    private func data() -> PreparedData {
        var trainRNG = RandomGenerator(seed: 21), testRNG = RandomGenerator(seed: 22)
        return PreparedData(train: Shapes.generate(count: 30, size: 12, rng: &trainRNG),
                            test: Shapes.generate(count: 12, size: 12, rng: &testRNG))
    }

    func testARecordedRunComputesExactlyWhatAnUnrecordedOneDoes() throws {
        let c = cell(dropout: 0.5), d = data()
        let plain = try CellRunner.trainModel(cell: c, data: d, onEpoch: nil)
        let recorder = TrainingRecorder(fullStateSteps: 3)
        let recorded = try CellRunner.trainModel(cell: c, data: d, onEpoch: nil, observer: recorder)
        XCTAssertEqual(recorded.model.stateDict().serialized(), plain.model.stateDict().serialized(), "final state, bit for bit")
        XCTAssertEqual(recorded.outcome.finalLoss, plain.outcome.finalLoss)
        XCTAssertEqual(recorded.outcome.runningAccuracy, plain.outcome.runningAccuracy)
        let measuredPlain = CellRunner.run(c, data: d)
        let measuredRecorded = CellRunner.run(c, data: d, observer: TrainingRecorder(fullStateSteps: 0))
        XCTAssertEqual(measuredRecorded.values, measuredPlain.values, "every measured column")
    }

    func testStepsTrajectoryAndMasksAreThoseOfTheRun() throws {
        // drop_last off: 30 samples in batches of 4 leave a last batch of 2 per epoch.
        let c = cell(dropout: 0.5, dropLast: false), d = data()
        let recorder = TrainingRecorder(fullStateSteps: 3)
        let trained = try CellRunner.trainModel(cell: c, data: d, onEpoch: nil, observer: recorder)
        XCTAssertEqual(recorder.steps, 16)
        XCTAssertEqual(trained.outcome.steps, 16)
        let steps = recorder.stepsFile()
        XCTAssertEqual(steps.tensors["epoch"]?.integers, Array(repeating: 1, count: 8) + Array(repeating: 2, count: 8))
        let epochSizes = Array(repeating: 4, count: 7) + [2]
        XCTAssertEqual(steps.tensors["batch_size"]?.integers, epochSizes + epochSizes)
        // The batches are the training loop's: the same draw from the same stream (CellRunner: root.derived("batches")).
        var batchRNG = RandomGenerator(seed: 5).derived("batches")
        let expected = (0..<2).flatMap { _ in
            c.training.order.batches(labels: d.train.labels, batchSize: 4, dropLast: false, rng: &batchRNG).flatMap { $0 }
        }
        XCTAssertEqual(steps.tensors["indices"]?.integers, expected)
        let losses = try XCTUnwrap(steps.tensors["loss"]?.floats)
        XCTAssertEqual(losses.count, 16)
        XCTAssertEqual(Double(losses.suffix(8).reduce(0, +)) / 8, trained.outcome.finalLoss, accuracy: 1e-6,
                       "the last epoch's mean loss (Float sums in Double: 1e-6)")

        // The state: initial differs from final; the trajectory's step 16 would be the final state, its step 3 is kept.
        let initial = try XCTUnwrap(recorder.initialState)
        let final = trained.model.stateDict()
        XCTAssertEqual(Set(initial.tensors.keys), Set(final.tensors.keys))
        XCTAssertNotEqual(initial.tensors["0.weight"], final.tensors["0.weight"])
        let trajectory = recorder.trajectoryFile()
        XCTAssertEqual(trajectory.tensors["0.weight"]?.shape, [3, 3, 1, 3, 3])
        XCTAssertEqual(trajectory.tensors["1.num_batches_tracked"]?.integers, [1, 2, 3])
        let normOfFinal = final.tensors["6.weight"]!.floats!.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        XCTAssertEqual(steps.tensors["norm.6.weight"]?.floats?.last, Float(normOfFinal), "the last norm is the final state's")
        XCTAssertNil(steps.tensors["norm.1.num_batches_tracked"], "no norms of counters")

        // Dropout after Flatten (3 channels of 6x6 = 108 values per sample): one mask row per sample seen,
        // about half kept at p = 0.5.
        let mask = try XCTUnwrap(steps.tensors["dropout_mask.5"], "Conv2d BatchNorm ReLU MaxPool2d Flatten Dropout Linear")
        XCTAssertEqual(mask.shape, [60, 108])
        let kept = Double(mask.integers!.reduce(0, +)) / Double(mask.elementCount)
        XCTAssertEqual(kept, 0.5, accuracy: 0.05, "6480 draws with p = 0.5 (0.05 is 8 standard deviations)")
    }

    func testTheDropoutMaskIsTheOneTheLayerApplied() throws {
        var rng = RandomGenerator(seed: 1)
        let dropout = try Dropout(p: 0.25, rng: rng.derived("d"))
        let x = Tensor(Shape(2, 5), (0..<10).map { _ in rng.normal() })
        let y = try dropout.forward(x, mode: .train).array
        let mask = try XCTUnwrap(dropout.lastMask)
        for i in 0..<10 {
            XCTAssertTrue(mask[i] == 0 || mask[i] == 1 / 0.75, "mask values are 0 or 1/(1-p)")
            XCTAssertEqual(y[i], x[i] * mask[i], "y = x * mask exactly")
        }
        _ = try dropout.forward(x, mode: .eval)
        XCTAssertNil(dropout.lastMask, "no mask after an eval-mode forward")
    }
}
