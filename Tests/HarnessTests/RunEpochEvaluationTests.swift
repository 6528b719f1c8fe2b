import Datasets
import Foundation
@testable import Experiment
import NN
@testable import Reports
import SpecFormat
import TensorCore
import XCTest

/// Case 9's measures (Wu & Johnson 2021): `train_acc_train_mode` at the normalization batch, and
/// `epoch_eval`'s per-epoch table `<spec>-epochs.csv`, through the journal.
final class RunEpochEvaluationTests: XCTestCase {
    /// 24 training and 10 test shapes, a BatchNorm MLP (width 6), batch 8 (3 steps an epoch).
    private let data: PreparedData = {
        var trainRNG = RandomGenerator(seed: 5), testRNG = RandomGenerator(seed: 6)
        return PreparedData(train: Shapes.generate(count: 24, size: 12, rng: &trainRNG),
                            test: Shapes.generate(count: 10, size: 12, rng: &testRNG))
    }()

    private func cell(epochs: Int = 2, ghost: Int? = nil, epochEval: Bool = false) -> Cell {
        Cell(model: ModelRecipe(architecture: .mlp(widths: [6]), ghostBatchSize: ghost),
             optimizer: .sgd(SGDSettings(learningRate: 0.05)),
             training: TrainingPlan(epochs: epochs, batchSize: 8, epochEval: epochEval),
             evaluation: EvaluationPlan(recalibrateSamples: 16, recalibrateBatchSize: 4, trainModeOnTrainSplit: true), seed: 3)
    }

    /// With ghost batches of 2 inside training batches of 8, the train-split measure normalizes over 2
    /// samples: the same as batches of 2 without ghost batches (dropout off, 24 = 3 x 8 samples).
    func testTrainAccTrainModeNormalizesOverTheGhostBatches() throws {
        let ghostCell = cell(ghost: 2)
        let measured = CellRunner.run(ghostCell, data: data)
        let trained = try CellRunner.trainModel(cell: ghostCell, data: data, onEpoch: nil).model
        let batchStatistics = Mode(normalization: .train, dropout: .eval)
        let overTwos = try Evaluation.accuracy(model: trained.clone(), data: data.train, batchSize: 2,
                                               mode: Mode(normalization: .train, dropout: .eval, ghostBatches: false))
        XCTAssertEqual(measured[.trainAccTrainMode], overTwos.correct.percent)
        let overEights = try Evaluation.accuracy(model: trained.clone(), data: data.train, batchSize: 8,
                                                 mode: Mode(normalization: .train, dropout: .eval, ghostBatches: false))
        XCTAssertNotEqual(overTwos.correct.correct, overEights.correct.correct,
                          "the check can fail: normalizing over 8 samples predicts differently")
        XCTAssertEqual(measured[.testAccTrainMode],
                       try Evaluation.accuracy(model: trained.clone(), data: data.test, batchSize: 8,
                                               mode: batchStatistics).correct.percent)
    }

    /// One evaluation per epoch; the last epoch's running-statistics accuracy is the cell's eval mode, its
    /// PreciseBN the recalibration with that epoch's draws; the model is not changed by them.
    func testEpochEvalEvaluatesEveryEpochWithoutChangingTheTraining() throws {
        let plain = try CellRunner.trainModel(cell: cell(epochs: 3), data: data, onEpoch: nil)
        let evaluated = try CellRunner.trainModel(cell: cell(epochs: 3, epochEval: true), data: data, onEpoch: nil)
        XCTAssertEqual(evaluated.model.stateDict(), plain.model.stateDict(), "the evaluations leave the model alone")
        XCTAssertEqual(plain.outcome.epochEvaluations, [])
        let epochs = evaluated.outcome.epochEvaluations
        XCTAssertEqual(epochs.map(\.epoch), [1, 2, 3])
        let measured = CellRunner.run(cell(epochs: 3, epochEval: true), data: data)
        XCTAssertEqual(measured.epochEvaluations, epochs)
        XCTAssertEqual(epochs[2].runningStatisticsAccuracy, measured[.testAccEvalMode])
        let recalibrated = evaluated.model.clone()
        var rng = RandomGenerator(seed: 3).derived("recalibrate-epoch-3")
        try Recalibration.recalibrate(model: recalibrated, data: data.train, samples: 16, batchSize: 4,
                                      estimator: .population, rng: &rng)
        XCTAssertEqual(epochs[2].preciseBNAccuracy,
                       try Evaluation.accuracy(model: recalibrated, data: data.test, batchSize: 64, mode: .eval).correct.percent)
    }

    private func record(_ index: Int, seed: UInt64, epochs: [EpochEvaluation]) -> CellRecord {
        var m = CellMeasurements()
        m[.testAccEvalMode] = 50
        m.epochEvaluations = epochs
        return CellRecord(index: index, key: "ghost_batch_size=\(index) seed=\(seed)",
                          settings: [["ghost_batch_size", String(2 << index)]], seed: seed, measurements: m)
    }

    func testTheEpochTableWholeAndThroughTheJournal() throws {
        let records = [
            record(1, seed: 0, epochs: [EpochEvaluation(epoch: 1, runningStatisticsAccuracy: 40, preciseBNAccuracy: 45.5),
                                        EpochEvaluation(epoch: 2, runningStatisticsAccuracy: 61.234, preciseBNAccuracy: nil)]),
            record(0, seed: 7, epochs: [EpochEvaluation(epoch: 1, runningStatisticsAccuracy: 33.333, preciseBNAccuracy: 35)]),
        ]
        let tables = ResultTables(spec: "tiny", records: records)
        XCTAssertEqual(tables.epochs, """
            spec,ghost_batch_size,seed,epoch,test_acc_running_stats,test_acc_precise_bn
            tiny,2,7,1,33.33,35.00
            tiny,4,0,1,40.00,45.50
            tiny,4,0,2,61.23,

            """)
        // A resumed run rebuilds the tables from the journal's records: the same text.
        let reread = try records.map { r -> CellRecord in
            let json = try Journal.line(for: r).split(separator: "\t")[0]
            return try JSONDecoder().decode(CellRecord.self, from: Data(json.utf8))
        }
        XCTAssertEqual(reread, records)
        XCTAssertEqual(ResultTables(spec: "tiny", records: reread), tables)
        // Without epoch_eval: no table, and the journal line has no epochs field (older journals read unchanged).
        let plain = record(0, seed: 0, epochs: [])
        XCTAssertNil(ResultTables(spec: "tiny", records: [plain]).epochs)
        XCTAssertFalse(try Journal.line(for: plain).contains("epochs"))
    }
}
