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

    /// `forgot_eval_batches 2` at batch 2 runs over the first 4 samples only; `forgot_eval_shift`
    /// adds to every value the pass sees and to nothing else.
    func testTheForgottenPassSeesTheFirstBatchesShifted() throws {
        let data = try handDataset((0..<5).map { [Float($0), -Float($0)] }, labels: [0, 1, 0, 1, 0], classes: 2, channels: 2)
        let seen = ForgottenEval(batches: 2, shift: 0.5).inputs(of: data, batchSize: 2)
        XCTAssertEqual(seen.labels, [0, 1, 0, 1])
        XCTAssertEqual(seen.images, [0.5, 0.5, 1.5, -0.5, 2.5, -1.5, 3.5, -2.5])
        XCTAssertEqual(ForgottenEval(batches: 9).inputs(of: data, batchSize: 2), data, "more batches than the split has")
        XCTAssertEqual(ForgottenEval().inputs(of: data, batchSize: 2), data)
        XCTAssertEqual(data.images[2], 1, "the test split itself is unchanged")
    }

    /// A shifted forgotten pass moves the running mean by the shift: the hand BatchNorm (momentum 0.5,
    /// running mean (2, 0)) sees one batch of 2 balanced samples shifted by -4, batch mean (-4, -4), so
    /// running_mean = 0.5 * (2, 0) + 0.5 * (-4, -4) = (-1, -2) exactly; eval mode afterwards gives
    /// feature 1 the logit 2 / sqrt(0.5) = 2.83 against at most 2 / sqrt(1.5) = 1.63 for feature 0, so
    /// it calls every sample class 1 (50%) where the unshifted whole pass left 100%.
    func testAShiftedForgottenPassMovesTheRunningMeanByTheShift() throws {
        let data = try handDataset(Self.labels.map { [$0 == 0 ? 1 : -1, 0] }, labels: Self.labels, classes: 2, channels: 2)
        let model = Sequential([Flatten(), handBatchNorm(mean: [2, 0], variance: [1, 1], momentum: .exponential(0.5))])
        let seen = ForgottenEval(batches: 1, shift: -4).inputs(of: data, batchSize: 2)
        _ = try Evaluation.accuracy(model: model, data: seen, batchSize: 2, mode: .train)
        XCTAssertEqual(runningStatistics(model)[0].mean, [-1, -2])
        XCTAssertEqual(runningStatistics(model)[0].batchesTracked, 3 + 1)
        XCTAssertEqual(try Evaluation.accuracy(model: model, data: data, batchSize: 2, mode: .eval).correct.percent, 50)
    }

    func testDisagreementIsThePercentageOfDifferingPredictions() {
        XCTAssertEqual(CellRunner.disagreement([0, 1, 2, 3], [0, 1, 0, 0]), 50)
        XCTAssertEqual(CellRunner.disagreement([0, 1, 2, 0, 1], [0, 1, 2, 0, 2]), 20)
        XCTAssertEqual(CellRunner.disagreement([1, 1], [1, 1]), 0)
        XCTAssertTrue(CellRunner.disagreement([], []).isNaN)
    }
}
