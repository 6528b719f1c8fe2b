import Datasets
@testable import Experiment
import SpecFormat
import NN
import TensorCore
import XCTest

/// `adapt_prior N`: the spec setting, its refusal without BatchNorm running statistics, and the
/// `adapted_accuracy` column that `CellRunner` measures from it on the trained model.
final class RunAdaptationPriorTests: XCTestCase {
    private func run(norm: NormKind, prior: Float?, trackRunningStats: Bool = true) -> CellMeasurements {
        var trainRNG = RandomGenerator(seed: 11), testRNG = RandomGenerator(seed: 12)
        let data = PreparedData(train: Shapes.generate(count: 30, size: 12, rng: &trainRNG),
                                test: Shapes.generate(count: 18, size: 12, rng: &testRNG))
        let cell = Cell(model: ModelRecipe(architecture: .cnn(channels: [8], kernel: 3), norm: norm,
                                           trackRunningStats: trackRunningStats),
                        optimizer: .sgd(SGDSettings(learningRate: 0.05)),
                        training: TrainingPlan(epochs: 1, batchSize: 4),
                        evaluation: EvaluationPlan(evalBatchSize: 5, adaptPrior: prior), seed: 3)
        let r = CellRunner.run(cell, data: data)
        XCTAssertEqual(r.status, CellStatus.ok, r.detail)
        return r
    }

    func testTheSettingParsesSweepsAndRenders() throws {
        let spec = try parseSpec("sweep adapt_prior off 0 16 1e6\n")
        XCTAssertEqual(spec.cells().map(\.adaptPrior), [nil, 0, 16, 1e6])
        XCTAssertEqual(spec.cells().map { $0.canonicalValue(of: "adapt_prior") }, ["off", "0", "16", "1000000"])
        assertSpecError("adapt_prior -1", "t.spec:1:13: error: adapt_prior must be >= 0, got '-1'")
        assertSpecError("adapt_prior on", "t.spec:1:13: error: adapt_prior must be 'off' or a number >= 0, got 'on'")
    }

    func testItIsRefusedWithoutBatchNormRunningStatistics() {
        let otherwise = "no cell uses a norm with BatchNorm's running statistics (norm batch with track_running_stats"
            + " on, or batchrenorm)"
        assertSpecError("norm group\nadapt_prior 8", "t.spec:2:13: error: 'adapt_prior' is set but has no effect: \(otherwise)")
        assertSpecError("norm evonorm_b0\nadapt_prior 8", "t.spec:2:13: error: 'adapt_prior' is set but has no effect: \(otherwise)")
        assertSpecError("track_running_stats off\nadapt_prior 8",
                        "t.spec:2:13: error: 'adapt_prior' is set but has no effect: \(otherwise)")
        XCTAssertNoThrow(try parseSpec("norm batchrenorm\nadapt_prior 8"))
        XCTAssertNoThrow(try parseSpec("sweep norm batch group\nadapt_prior 8"), "acts in the batch cells")
    }

    func testAdaptedAccuracyIsTheAdaptedPassAndAStrongPriorIsEvalMode() throws {
        let strong = run(norm: .batch, prior: 1e30)
        XCTAssertEqual(strong[.adaptedAccuracy], strong[.testAccEvalMode], "w = 1e30 / (1e30 + 5) = 1 in Float: eval mode")
        let weak = run(norm: .batch, prior: 10)
        var trainRNG = RandomGenerator(seed: 11), testRNG = RandomGenerator(seed: 12)
        let data = PreparedData(train: Shapes.generate(count: 30, size: 12, rng: &trainRNG),
                                test: Shapes.generate(count: 18, size: 12, rng: &testRNG))
        let cell = Cell(model: ModelRecipe(architecture: .cnn(channels: [4], kernel: 3)),
                        optimizer: .sgd(SGDSettings(learningRate: 0.05)), training: TrainingPlan(epochs: 1, batchSize: 4),
                        evaluation: EvaluationPlan(evalBatchSize: 5, adaptPrior: 10), seed: 3)
        let model = try CellRunner.trainModel(cell: cell, data: data, onEpoch: nil).model
        let before = runningStatistics(model)
        let mode = Mode(normalization: .adapted(priorWeight: Float(10.0 / 15)), dropout: .eval)
        XCTAssertEqual(CellRunner.adaptationMode(prior: 10, batchSize: 5), mode, "w = N / (N + n), n = eval_batch_size")
        XCTAssertEqual(weak[.adaptedAccuracy], try Evaluation.accuracy(model: model, data: data.test, batchSize: 5,
                                                                       mode: mode).correct.percent)
        XCTAssertEqual(runningStatistics(model), before, "the adapted pass changed the running statistics")
    }

    func testNotMeasuredWhereThereIsNothingToAdapt() {
        XCTAssertNil(run(norm: .batch, prior: nil)[.adaptedAccuracy], "off")
        XCTAssertNil(run(norm: .group, prior: 4)[.adaptedAccuracy], "GroupNorm keeps no running statistics")
        XCTAssertNil(run(norm: .batch, prior: 4, trackRunningStats: false)[.adaptedAccuracy], "no running statistics")
        XCTAssertNotNil(run(norm: .batchrenorm, prior: 4)[.adaptedAccuracy])
    }
}
