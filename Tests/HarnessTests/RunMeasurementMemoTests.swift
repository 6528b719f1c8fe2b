import Datasets
@testable import Experiment
import Foundation
@testable import SpecFormat
import NN
import TensorCore
import XCTest

/// `MeasurementMemo`: the cells that share a training measure each pass once, and get exactly the
/// measurements they would have computed alone.
final class RunMeasurementMemoTests: XCTestCase {
    /// A tiny spec whose cells share trainings (per seed) and differ in evaluation settings and in a
    /// test-only data setting, with every optional measurement on.
    static let sharedTrainingSpec = """
        dataset shapes size=12
        train_split 24
        test_split 12
        model cnn channels=4
        dropout 0.25
        mixed_dropout_eval on
        epochs 1
        batch_size 4
        adapt_prior 8
        mc_samples 2
        forgot_eval on
        lossy_reload on
        class_blocked_eval on
        train_mode_train_split on
        metric_bug on
        sweep eval_batch_size 4 7
        sweep forgot_eval_batches 1 all
        sweep recalibrate_samples 8 all
        sweep test_storage lossless uint4
        seeds 0 1

        """

    /// A small CNN trained for one epoch at batch 4, then `extra`'s settings.
    func smallSpec(testSplit: Int = 8, _ extra: String) -> String {
        "dataset shapes size=12\ntrain_split 16\ntest_split \(testSplit)\nmodel cnn channels=4\nepochs 1\nbatch_size 4\n" + extra
    }

    func cells(_ text: String) throws -> [Cell] {
        try parseSpec(text).cells().enumerated().map { Cell($1, index: $0) }
    }

    /// The cell trained and measured alone, every pass computed (no memo).
    func measuredAlone(_ cell: Cell, _ preparation: DataPreparation) throws -> CellMeasurements {
        let data = try preparation.prepare(cell.data)
        return try FloatingPointMode.withDenormalsFlushed {
            var r = CellMeasurements()
            try CellRunner.measureTrained(cell: cell, data: data,
                                          trained: CellRunner.trainModel(cell: cell, data: data, onEpoch: nil),
                                          memo: nil, into: &r)
            return r
        }
    }

    /// Exactly equal (values by bit pattern), apart from wall time and the two values `run` sets itself.
    func assertSame(_ shared: CellMeasurements, _ alone: CellMeasurements, _ cell: String,
                    file: StaticString = #filePath, line: UInt = #line) {
        func bits(_ m: CellMeasurements) -> [Metric: UInt64] {
            m.values.filter { $0.key != .testOverlap && $0.key != .lrUsed }.mapValues(\.bitPattern)
        }
        XCTAssertEqual(shared.status, alone.status, cell, file: file, line: line)
        XCTAssertEqual(bits(shared), bits(alone), cell, file: file, line: line)
        XCTAssertEqual(shared.statisticsErrors, alone.statisticsErrors, cell, file: file, line: line)
        XCTAssertEqual(shared.recalibratedStatisticsErrors, alone.recalibratedStatisticsErrors, cell, file: file, line: line)
        XCTAssertEqual(shared.epochEvaluations, alone.epochEvaluations, cell, file: file, line: line)
        XCTAssertEqual(shared.notes, alone.notes, cell, file: file, line: line)
    }

    /// `cells` (of one training) measured one after the other with one memo, each checked against the
    /// cell alone; returns the memo and how many passes it had computed after each cell.
    func measuredTogether(_ cells: [Cell]) throws -> (memo: MeasurementMemo, computed: [Int]) {
        XCTAssertEqual(Set(cells.map(TrainedModelCache.Key.init)).count, 1, "one training")
        let preparation = DataPreparation()
        let trained = try FloatingPointMode.withDenormalsFlushed {
            try CellRunner.trainModel(cell: cells[0], data: preparation.prepare(cells[0].data), onEpoch: nil)
        }
        let memo = MeasurementMemo()
        var computed: [Int] = []
        for cell in cells {
            var r = CellMeasurements()
            try FloatingPointMode.withDenormalsFlushed {
                try CellRunner.measure(cell: cell, data: preparation.prepare(cell.data), trained: trained, memo: memo, into: &r)
            }
            computed.append(memo.computed)
            assertSame(r, try measuredAlone(cell, preparation), cell.key)
        }
        return (memo, computed)
    }

    /// The cells of a sweep on four threads through one cache (one training per seed, the passes shared),
    /// against each cell trained and measured alone.
    func testSharedMeasurementsEqualThoseComputedAlone() throws {
        let cells = try cells(Self.sharedTrainingSpec)
        XCTAssertEqual(cells.count, 32)
        for (cell, shared) in zip(cells, try assertSharedEqualAlone(cells, trainings: 2)) {
            XCTAssertNotNil(shared[.testAccMCDropout], "every optional measurement is made: \(cell.key)")
            XCTAssertNotNil(shared[.testAccReloadRecalibrated], cell.key)
            XCTAssertNotNil(shared[.evalModeDisagreement], cell.key)
        }
    }

    /// The same for fine-tuning cells, which measure the shifted splits and the model before fine-tuning.
    func testSharedFineTuningMeasurementsEqualThoseComputedAlone() throws {
        let cells = try cells(smallSpec(testSplit: 12, """
            finetune_epochs 1
            finetune_shift 1
            freeze eval
            sweep eval_batch_size 4 7
            sweep test_storage lossless uint4
            seeds 0 1

            """))
        XCTAssertEqual(cells.count, 8)
        for (cell, shared) in zip(cells, try assertSharedEqualAlone(cells, trainings: 2)) {
            XCTAssertNotNil(shared[.testAccUnshiftedBeforeFinetune], cell.key)
        }
    }

    /// Runs `cells` (of `trainings` trainings) as a sweep does, checks each against the cell alone, and returns
    /// their measurements.
    func assertSharedEqualAlone(_ cells: [Cell], trainings: Int, file: StaticString = #filePath,
                                line: UInt = #line) throws -> [CellMeasurements] {
        XCTAssertEqual(Set(cells.map(TrainedModelCache.Key.init)).count, trainings, "one training per seed",
                       file: file, line: line)
        let preparation = DataPreparation()
        let cache = TrainedModelCache()
        for cell in cells { cache.expect(TrainedModelCache.Key(cell)) }
        final class Results: @unchecked Sendable {  // `lock` guards `measurements`
            let lock = NSLock()
            var measurements: [CellMeasurements?]
            init(_ n: Int) { measurements = Array(repeating: nil, count: n) }
            func set(_ i: Int, _ m: CellMeasurements) { lock.withLock { measurements[i] = m } }
        }
        let results = Results(cells.count)
        let data = try cells.map { try preparation.prepare($0.data) }
        // as the sweep's workers do (FloatingPointMode); measuredAlone below too
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            FloatingPointMode.withDenormalsFlushed {
                for i in stride(from: worker, to: cells.count, by: 4) {
                    results.set(i, CellRunner.run(cells[i], data: data[i], cache: cache))
                }
            }
        }
        for (cell, shared) in zip(cells, results.measurements) {
            let shared = try XCTUnwrap(shared)
            XCTAssertEqual(shared.status, .ok, shared.detail)
            assertSame(shared, try measuredAlone(cell, preparation), cell.key, file: file, line: line)
        }
        return results.measurements.compactMap { $0 }
    }

    /// Two cells of one training that differ in `eval_batch_size` (4 = the training batch size, and 8):
    /// five passes each, five distinct. The first cell's `test_acc_batch_stats` is its
    /// `test_acc_train_mode`; the second computes only its own batch-statistics pass.
    func testEachDistinctPassIsComputedOnce() throws {
        let cells = try cells(smallSpec("sweep eval_batch_size 4 8\n"))
        let (memo, computed) = try measuredTogether(cells)
        XCTAssertEqual(memo.requests, 10, "test_acc_train_mode, eval mode, test_acc_batch_stats, the probe, recalibrated")
        XCTAssertEqual(computed, [4, 5])
    }

    /// A test-only data setting (`test_storage`) shares the passes over the training split (the probe)
    /// and none over the test split.
    func testATestOnlyDataSettingSharesOnlyThePassesOverTheTrainingSplit() throws {
        let cells = try cells(smallSpec("eval_batch_size 4\nsweep test_storage lossless uint4\n"))
        XCTAssertEqual(try measuredTogether(cells).computed, [4, 7], "the second cell's probe over the training split is the first's")
    }

    /// With `dropout_in_eval` every eval-mode pass draws from the model's dropout stream, so each pass
    /// depends on the ones before it: the memo is not used (it would give test_acc_batch_stats the value
    /// of test_acc_train_mode, computed before the eval pass drew).
    func testAModelWhoseEvalModeDrawsIsMeasuredWithoutTheMemo() throws {
        let cell = try XCTUnwrap(cells(smallSpec(testSplit: 200, "dropout 0.5\ndropout_in_eval on\neval_batch_size 4\n")).first)
        XCTAssertEqual(try measuredTogether([cell]).memo.requests, 0)
        let r = try measuredAlone(cell, DataPreparation())
        XCTAssertNotEqual(r[.testAccTrainMode], r[.testAccBatchStats],
                          "the same pass twice (batch 4), the second with the stream where the eval pass left it")
    }

    /// Threads that ask for a pass under way wait for it; its value, or its error, goes to every one.
    func testAPassUnderWayIsWaitedForAndItsErrorIsSharedToo() throws {
        let memo = MeasurementMemo()
        let cell = Cell(model: ModelRecipe(architecture: .mlp(widths: [2])), optimizer: .sgd(SGDSettings(learningRate: 0.1)),
                        training: TrainingPlan(epochs: 1, batchSize: 2), evaluation: EvaluationPlan(), seed: 0)
        let pass = MeasurementPass(.evalMode, batchSize: 64, of: cell)
        final class Counter: @unchecked Sendable {  // `lock` guards `count`
            let lock = NSLock()
            var count = 0
            func add() { lock.withLock { count += 1 } }
        }
        let computations = Counter(), answers = Counter()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let value = try? memo.result(of: pass) { () -> Double in
                computations.add()
                Thread.sleep(forTimeInterval: 0.05)  // the other threads ask meanwhile
                return 42
            }
            if value == 42 { answers.add() }
        }
        XCTAssertEqual(computations.count, 1)
        XCTAssertEqual(answers.count, 4)
        XCTAssertEqual(memo.requests, 4)

        struct Refused: Error {}
        let refused = MeasurementPass(.statisticsProbe, batchSize: 64, of: cell)
        for _ in 0..<2 {
            XCTAssertThrowsError(try memo.result(of: refused) { () -> Double in computations.add(); throw Refused() }) {
                XCTAssertTrue($0 is Refused)
            }
        }
        XCTAssertEqual(computations.count, 2, "a refused pass is not tried again")
        XCTAssertEqual(memo.computed, 2)
    }

    /// The probe's four-planes-at-a-time sums are the plain loop's bits: channel counts around the
    /// lane count, a linear layer's `(N, F)` input, values of very different magnitudes.
    func testThePlaneMomentsEqualThePlainLoopBitForBit() {
        var rng = RandomGenerator(seed: 5)
        for shape in [Shape(3, 7, 5, 3), Shape(2, 4, 1, 9), Shape(5, 3, 2, 2), Shape(6, 9)] {
            let h = Tensor(shape)
            for i in 0..<h.count { h.data[i] = rng.uniform(-1, 1) * Float(1 << (i % 17)) }
            var sums = [Double](repeating: 0.25, count: shape.channels), squares = sums
            var referenceSums = sums, referenceSquares = squares
            RunningStatisticsProbe.addPlaneMoments(h, sums: &sums, squares: &squares)
            RunningStatisticsProbe.addPlaneMomentsReference(h, sums: &referenceSums, squares: &referenceSquares)
            XCTAssertEqual(sums.map(\.bitPattern), referenceSums.map(\.bitPattern), "\(shape)")
            XCTAssertEqual(squares.map(\.bitPattern), referenceSquares.map(\.bitPattern), "\(shape)")
            XCTAssertNotEqual(sums, [Double](repeating: 0.25, count: shape.channels))
        }
    }
}
