import Charts
import Datasets
import Experiment
import SpecFormat
import NN
import TensorCore
import XCTest

/// `Evaluation` on a model whose predictions are known: `Flatten -> Linear` with a
/// permutation weight, so the logits of sample `x = (x0, x1, x2)` are exactly
/// `(x1, x2, x0)` (products with 0 and 1 and sums with 0 are exact in Float).
/// Every accuracy here is a ratio of small integers times 100 whose Double value is
/// exact (60, 20, 10, 30), so the assertions are exact.
final class RunEvaluationTests: XCTestCase {
    /// The logits of each sample (as they will come out of the model), the labels, and the
    /// predicted class (argmax, first maximum on ties).
    static let logits: [[Float]] = [
        [5, 1, 0], [0, 3, 1], [0, 1, 4], [2, 2, 1],     // batch 1 at size 4: 3 correct
        [1, 0, 0], [0, 0, 7], [3, 3, 3], [-1, -2, -0.5], // batch 2: 1 correct
        [0, 2, 2], [1, 0, 1],                            // batch 3 (2 samples): 2 correct
    ]
    static let labels: [Int32] = [0, 1, 2, 1, 2, 2, 2, 0, 1, 0]
    static let predicted: [Int32] = [0, 1, 2, 0, 0, 2, 0, 2, 1, 0]

    var model: Sequential!
    var data: ImageDataset!

    override func setUpWithError() throws {
        model = Sequential([Flatten(), handLinear(weights: [[0, 1, 0], [0, 0, 1], [1, 0, 0]], bias: [0, 0, 0])])
        // logits (a, b, c) = (x1, x2, x0)  =>  x = (c, a, b)
        data = try handDataset(Self.logits.map { [$0[2], $0[0], $0[1]] }, labels: Self.labels, classes: 3, channels: 3)
    }

    func testPredictionsAreTheArgmaxWithTheFirstMaximumOnTies() throws {
        for batchSize in [1, 3, 4, 10, 11] {
            XCTAssertEqual(try Evaluation.predictions(model: model, data: data, batchSize: batchSize, mode: .eval),
                           Self.predicted, "batch size \(batchSize)")
        }
    }

    func testAccuracyCountsEveryBatchIncludingTheSmallLastOne() throws {
        // 10 samples at batch 4: batches of 4, 4 and 2 with 3, 1 and 2 correct.
        let result = try Evaluation.accuracy(model: model, data: data, batchSize: 4, mode: .eval)
        XCTAssertEqual(result.correct.correct, 6)
        XCTAssertEqual(result.correct.samples, 10)
        XCTAssertEqual(result.correct.percent, 60)
    }

    func testAccuracyDoesNotDependOnTheBatchSize() throws {
        for batchSize in [1, 2, 3, 4, 5, 7, 10, 11] {
            XCTAssertEqual(try Evaluation.accuracy(model: model, data: data, batchSize: batchSize, mode: .eval).correct.percent,
                           60, "batch size \(batchSize)")
        }
    }

    func testAssigningCounterReportsTheLastBatchOverAllSamples() throws {
        // n_correct = batch_correct: the last batch's correct count over the whole sample count.
        let cases: [(batchSize: Int, lastBatchCorrect: Int)] = [(4, 2), (1, 1), (3, 1), (5, 3), (10, 6), (11, 6)]
        for (batchSize, lastBatchCorrect) in cases {
            let bug = try Evaluation.accuracy(model: model, data: data, batchSize: batchSize, mode: .eval).assigning
            XCTAssertEqual(bug.correct, lastBatchCorrect, "batch size \(batchSize)")
            XCTAssertEqual(bug.samples, 10, "batch size \(batchSize)")
            XCTAssertEqual(bug.percent, 100 * Double(lastBatchCorrect) / 10, "batch size \(batchSize)")
        }
        // One batch holding everything: the bug is invisible, which is why it survives.
        let whole = try Evaluation.accuracy(model: model, data: data, batchSize: 10, mode: .eval)
        XCTAssertEqual(whole.assigning.percent, whole.correct.percent)
        let split = try Evaluation.accuracy(model: model, data: data, batchSize: 4, mode: .eval)
        XCTAssertEqual(split.assigning.percent, 20)
        XCTAssertNotEqual(split.assigning.percent, split.correct.percent)
    }

    func testCountersSumOrAssign() {
        var sum = AccuracyCounter(), bug = AssigningAccuracyCounter()
        XCTAssertTrue(sum.percent.isNaN, "no samples: NaN, not 0")
        XCTAssertTrue(bug.percent.isNaN)
        for (correct, of) in [(3, 4), (1, 4), (2, 2)] {
            sum.add(correct: correct, of: of)
            bug.add(correct: correct, of: of)
        }
        XCTAssertEqual([sum.correct, sum.samples], [6, 10])
        XCTAssertEqual([bug.correct, bug.samples], [2, 10])
        XCTAssertEqual(sum.percent, 60)
        XCTAssertEqual(bug.percent, 20)
    }

    func testForEachBatchVisitsConsecutiveRangesInOrder() throws {
        var ranges: [Range<Int>] = []
        var labels: [Int32] = []
        try Evaluation.forEachBatch(model: model, data: data, batchSize: 4, mode: .eval) { logits, batchLabels, range in
            XCTAssertEqual(logits.shape, Shape(range.count, 3))
            ranges.append(range)
            labels += batchLabels
        }
        XCTAssertEqual(ranges, [0..<4, 4..<8, 8..<10])
        XCTAssertEqual(labels, Self.labels)
    }
}
