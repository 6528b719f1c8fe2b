@testable import Experiment
@testable import SpecFormat
import NN
import TensorCore
import XCTest

/// The forgotten `model.eval()`: a whole-model train-mode pass over the test set, which
/// updates the running statistics with the test batches.
///
/// Hand model `Flatten -> BatchNorm(2, momentum 0.5)`, whose outputs are the logits;
/// class 0 has features `(+1, 0)`, class 1 `(-1, 0)`; running mean starts at `(2, 0)`, so
/// eval mode calls everything class 1 (50%). Four balanced batches of 2 have batch mean
/// `(0, 0)` and unbiased variance `(2, 0)`, so the running statistics become
/// `rm0 = 2 * 0.5^4 = 0.125`, `rv0 = 2 - 0.5^4 = 1.9375`, `rv1 = 0.5^4 = 0.0625`: powers of
/// two, exact in Float32, so the assertions are exact. With `rm0 = 0.125` eval mode is right
/// on every sample (100%).
final class RunForgotEvalTests: XCTestCase {
    static let labels: [Int32] = [0, 1, 1, 0, 0, 1, 1, 0]

    func testAForgottenEvalChangesTheRunningStatisticsAndTheEvalAccuracy() throws {
        let data = try handDataset(Self.labels.map { [$0 == 0 ? 1 : -1, 0] }, labels: Self.labels, classes: 2, channels: 2)
        let model = Sequential([Flatten(), handBatchNorm(mean: [2, 0], variance: [1, 1], momentum: .exponential(0.5))])
        XCTAssertEqual(try Evaluation.accuracy(model: model, data: data, batchSize: 2, mode: .eval).correct.percent, 50)

        let forgotten = try Evaluation.accuracy(model: model, data: data, batchSize: 2, mode: .train)
        XCTAssertEqual(forgotten.correct.percent, 100, "balanced batches: batch statistics separate the classes")

        let after = runningStatistics(model)[0]
        XCTAssertEqual(after.mean, [0.125, 0])
        XCTAssertEqual(after.variance, [1.9375, 0.0625])
        XCTAssertEqual(after.batchesTracked, 3 + 4)
        XCTAssertEqual(try Evaluation.accuracy(model: model, data: data, batchSize: 2, mode: .eval).correct.percent, 100)
    }

    func testTrainModeWithDropoutDisagreesWithItselfAndEvalModeDoesNot() throws {
        // 40 samples of 2 features; logits = the dropped-out features (identity Linear)
        var rng = RandomGenerator(seed: 3)
        let images = (0..<40).map { _ in [rng.uniform(-1, 1), rng.uniform(-1, 1)] }
        let labels = images.map { Int32($0[0] >= $0[1] ? 0 : 1) }
        let data = try handDataset(images, labels: labels, classes: 2, channels: 2)
        let model = Sequential([Flatten(), try Dropout(p: 0.5, rng: RandomGenerator(seed: 8)),
                                handLinear(weights: [[1, 0], [0, 1]], bias: [0, 0])])
        let first = try Evaluation.predictions(model: model, data: data, batchSize: 7, mode: .train)
        let second = try Evaluation.predictions(model: model, data: data, batchSize: 7, mode: .train)
        XCTAssertGreaterThan(CellRunner.disagreement(first, second), 0, "new masks each pass")
        let evalFirst = try Evaluation.predictions(model: model, data: data, batchSize: 7, mode: .eval)
        let evalSecond = try Evaluation.predictions(model: model, data: data, batchSize: 7, mode: .eval)
        XCTAssertEqual(CellRunner.disagreement(evalFirst, evalSecond), 0)
        XCTAssertEqual(try Evaluation.accuracy(model: model, data: data, batchSize: 7, mode: .eval).correct.percent, 100)
    }

    func testDisagreementIsThePercentageOfDifferingPredictions() {
        XCTAssertEqual(CellRunner.disagreement([0, 1, 2, 3], [0, 1, 0, 0]), 50)
        XCTAssertEqual(CellRunner.disagreement([0, 1, 2, 0, 1], [0, 1, 2, 0, 2]), 20)
        XCTAssertEqual(CellRunner.disagreement([1, 1], [1, 1]), 0)
        XCTAssertTrue(CellRunner.disagreement([], []).isNaN)
    }
}
