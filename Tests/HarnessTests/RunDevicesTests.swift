import Datasets
@testable import Experiment
import NN
@testable import SpecFormat
import TensorCore
import XCTest

/// `devices K` and `device_bn`: the spec's rules, the recipe, and the trainer's epoch-end average.
final class RunDevicesTests: XCTestCase {
    func testSpecRulesForDevices() throws {
        assertSpecError("batch_size 30\ndevices 4",
                        "t.spec:2:9: error: devices 4 does not divide batch_size 30: each device normalizes a shard of"
                            + " batch_size / devices samples")
        assertSpecError("devices 2\nghost_batch_size 4",
                        "t.spec:2:18: error: ghost_batch_size and devices 2 both cut the batch for its statistics; set"
                            + " one of them")
        assertSpecError("norm group\ngroups 4\nsweep devices 1 2",
                        "t.spec:3:17: error: devices 2 simulates per-device BatchNorm, but norm is group; it needs norm batch")
        assertSpecError("model cnn channels=4,4\nshared_bn shared\ndevices 2",
                        "t.spec:2:11: error: shared_bn shared and devices 2 cannot be combined; set one of them")
        assertSpecError("devices 2\ndrop_last off",
                        "t.spec:2:11: error: devices 2 needs drop_last on: every training step gives each device a shard"
                            + " of batch_size / devices samples")
        assertSpecError("device_bn sync", "t.spec:1:11: error: 'device_bn' is set but has no effect: devices is 1 in every cell")
        let cells = try parseSpec("batch_size 64\nsweep devices 1 2 4 8\nsweep device_bn rank0 reduce sync").cells()
        XCTAssertEqual(cells.count, 12)
        XCTAssertEqual(cells.map(\.devices), [1, 1, 1, 2, 2, 2, 4, 4, 4, 8, 8, 8])
    }

    func testRecipeBuildsOneDataParallelBatchNormPerBlock() throws {
        let model = try ModelRecipe(architecture: .cnn(channels: [3, 4], kernel: 3), devices: 4, deviceBN: .sync)
            .build(channels: 1, height: 12, width: 12, classes: 3, rng: RandomGenerator(seed: 1))
        let layers = model.runningStatisticsLayers.compactMap { $0 as? DataParallelBatchNorm }
        XCTAssertEqual(layers.map(\.devices), [4, 4])
        XCTAssertEqual(layers.map(\.policy), [.sync, .sync])
        let single = try ModelRecipe(architecture: .cnn(channels: [3], kernel: 3), devices: 1, deviceBN: .reduce)
            .build(channels: 1, height: 12, width: 12, classes: 3, rng: RandomGenerator(seed: 1))
        XCTAssertTrue(single.runningStatisticsLayers.allSatisfy { $0 is BatchNorm }, "1 device: BatchNorm")
    }

    /// A whole training with `reduce`: the trainer averages the ranks at every epoch end, so after it all
    /// ranks hold one value, the mean of what they had (the last epoch's own updates); `rank0` keeps one
    /// rank; `sync` trains as the single-device model up to rounding (both see the full batch).
    func testTrainerAveragesTheRanksAtEveryEpochEnd() throws {
        func cell(devices: Int, policy: DeviceBatchNormPolicy, epochs: Int = 2) -> Cell {
            Cell(model: ModelRecipe(architecture: .cnn(channels: [3], kernel: 3), devices: devices, deviceBN: policy),
                 optimizer: .sgd(SGDSettings(learningRate: 0.05, momentum: 0.9)),
                 training: TrainingPlan(epochs: epochs, batchSize: 8),
                 evaluation: EvaluationPlan(evalBatchSize: 7, recalibrateBatchSize: 5), seed: 5)
        }
        var trainRNG = RandomGenerator(seed: 21), testRNG = RandomGenerator(seed: 22)
        let data = PreparedData(train: Shapes.generate(count: 32, size: 12, rng: &trainRNG),
                                test: Shapes.generate(count: 12, size: 12, rng: &testRNG))
        let reduced = try CellRunner.trainModel(cell: cell(devices: 4, policy: .reduce), data: data, onEpoch: nil).model
        let layer = try XCTUnwrap(reduced.runningStatisticsLayers.first as? DataParallelBatchNorm)
        let ranks = layer.rankRunningStatistics
        XCTAssertEqual(ranks.count, 4)
        XCTAssertTrue(ranks.allSatisfy { $0 == ranks[0] }, "every rank holds the average after the last epoch")
        XCTAssertEqual(ranks[0].batchesTracked, 8, "2 epochs of 4 steps, one forward per rank each")

        // Stopping before the average (one epoch, observed mid-way) would leave them apart: check that
        // the ranks do differ before an average, so that the test above can fail.
        let fresh = try ModelRecipe(architecture: .cnn(channels: [3], kernel: 3), devices: 4, deviceBN: .reduce)
            .build(channels: 1, height: 12, width: 12, classes: 3, rng: RandomGenerator(seed: 1))
        let assembler = BatchAssembler()
        assembler.assemble(data.train, indices: Array(0..<8)[...])
        _ = try fresh.forward(assembler.input, mode: .train)
        let apart = (fresh.runningStatisticsLayers[0] as! DataParallelBatchNorm).rankRunningStatistics
        XCTAssertNotEqual(apart[0], apart[1])

        let sync = try CellRunner.trainModel(cell: cell(devices: 4, policy: .sync), data: data, onEpoch: nil)
        let single = try CellRunner.trainModel(cell: cell(devices: 1, policy: .rank0), data: data, onEpoch: nil)
        let a = runningStatistics(sync.model)[0], b = runningStatistics(single.model)[0]
        for (u, v) in zip(a.mean + a.variance, b.mean + b.variance) {
            XCTAssertEqual(u, v, accuracy: 1e-4 * max(1, abs(v)), "SyncBN trains as the full-batch model (8 steps of rounding)")
        }
    }
}
