@testable import Experiment
@testable import SpecFormat
import NN
import TensorCore
import XCTest

/// `TrainedModelCache`: one training per key however many cells share it, a distinct model
/// for every cell, and the entry dropped after the last expected use.
final class RunTrainedModelCacheTests: XCTestCase {
    func key(seed: UInt64) -> TrainedModelCache.Key {
        let plan = Cell(model: ModelRecipe(architecture: .mlp(widths: [2])), optimizer: .sgd(SGDSettings(learningRate: 0.1)),
                            training: TrainingPlan(epochs: 1, batchSize: 2), evaluation: EvaluationPlan(), seed: seed)
        return TrainedModelCache.Key(plan)
    }

    func entry() -> TrainedModelCache.Entry {
        TrainedModelCache.Entry(model: Sequential([Flatten(), handBatchNorm(mean: [1, 2], variance: [3, 4])]),
                                outcome: TrainingOutcome(runningAccuracy: 50, finalLoss: 1, steps: 1, divergence: nil))
    }

    func testOneTrainingPerKeyDistinctModelsAndTheEntryDroppedAfterTheLastUse() throws {
        let cache = TrainedModelCache()
        let shared = key(seed: 1), alone = key(seed: 2)
        for _ in 0..<3 { cache.expect(shared) }
        cache.expect(alone)
        var trainings = 0
        let train = { () -> TrainedModelCache.Entry in trainings += 1; return self.entry() }

        let first = try cache.model(for: shared, train: train)
        let second = try cache.model(for: shared, train: train)
        let third = try cache.model(for: shared, train: train)
        XCTAssertEqual(trainings, 1, "three cells, one training")
        XCTAssertFalse(first.model === second.model || second.model === third.model || first.model === third.model,
                       "every cell gets its own model (layers own their workspaces)")
        XCTAssertEqual(runningStatistics(first.model), runningStatistics(third.model), "the clones are copies of the trained model")
        XCTAssertEqual(third.outcome.runningAccuracy, 50)

        _ = try cache.model(for: alone, train: train)
        XCTAssertEqual(trainings, 2)
        // Both keys had their expected uses: the cache holds nothing, a further request trains again.
        _ = try cache.model(for: shared, train: train)
        XCTAssertEqual(trainings, 3, "the entry was dropped after its last expected use")
    }

    /// Settings that change only the test split share a training, unless the training validates on it.
    func testCellsThatDifferOnlyInTheTestSplitShareATraining() throws {
        func key(_ text: String) throws -> TrainedModelCache.Key {
            let config = try XCTUnwrap(parseSpec("dataset shapes size=12\nmodel mlp widths=4\n" + text).cells().first)
            return TrainedModelCache.Key(Cell(config, index: 0))
        }
        let plain = try key("")
        XCTAssertEqual(try key("test_storage uint4"), plain)
        XCTAssertEqual(try key("test_normalize none"), plain)
        XCTAssertEqual(try key("split_overlap 0.5"), plain)
        XCTAssertNotEqual(try key("train_split 100"), plain)
        XCTAssertNotEqual(try key("test_split 100"), plain, "a file's stratified split depends on both counts")
        XCTAssertNotEqual(try key("validation eval\ntest_storage uint4"), try key("validation eval"),
                          "a training that validates reads the test split")
        // epoch_eval evaluates after every epoch, on the test split, with the cell's evaluation settings
        XCTAssertEqual(try key("recalibrate_samples 8"), plain)
        XCTAssertNotEqual(try key("epoch_eval on\nrecalibrate_samples 8"), try key("epoch_eval on"))
        XCTAssertNotEqual(try key("epoch_eval on\neval_batch_size 256"), try key("epoch_eval on"))
        XCTAssertNotEqual(try key("epoch_eval on\ntest_storage uint4"), try key("epoch_eval on"))
    }

    func testAFailedTrainingIsRethrownToEveryCellThatSharesIt() {
        struct Refused: Error {}
        let cache = TrainedModelCache()
        let shared = key(seed: 1)
        cache.expect(shared)
        cache.expect(shared)
        var trainings = 0
        for _ in 0..<2 {
            XCTAssertThrowsError(try cache.model(for: shared) { trainings += 1; throw Refused() }) { XCTAssertTrue($0 is Refused) }
        }
        XCTAssertEqual(trainings, 1)
    }
}
