import Datasets
@testable import Experiment
import NN
import SpecFormat
import TensorCore
import XCTest

/// `weight_average`, `ema_decay`, `weight_average_buffers`: the averaged model's parameters and BatchNorm
/// buffers on hand examples, and the averaged model measured by a cell.
final class RunWeightAveragingTests: XCTestCase {
    /// One BatchNorm(1): weight, bias, running_mean, running_var, num_batches_tracked, as given.
    private func state(weight: Float, bias: Float, mean: Float, variance: Float, batches: Int) -> Sequential {
        let layer = BatchNorm(1)
        layer.weight.value[0] = weight
        layer.bias.value[0] = bias
        layer.restoreRunningStatistics(RunningStatistics(mean: [mean], variance: [variance], batchesTracked: batches))
        return Sequential([layer])
    }

    private func values(_ model: Sequential) -> [Float] {
        let bn = model.runningStatisticsLayers[0]
        return [bn.weight.value[0], bn.bias.value[0], bn.runningMean[0], bn.runningVar[0], Float(bn.numBatchesTracked)]
    }

    /// Created from (w 1, b 0, mean 0, var 1, n 0); live after step 1 (3, -2, 4, 9, 1), after step 2 (5, 2, 8, 5, 2);
    /// decay 0.5, exact in Float32. The expected values below are the hand computation; the reference code gave
    /// the same on a `BatchNorm1d(1)` with these states (torch 2.x, timm's model_ema.py at the fetched snapshot):
    /// `ModelEmaV2(decay=0.5)` [3.5, 0.5, 5, 5, 1], `ModelEmaV3(decay=0.5, exclude_buffers=True)` [3.5, 0.5, 8, 5, 2],
    /// `ModelEmaV2(decay=0.75)` n 0; for the SWA example below `AveragedModel(use_buffers=True)` [6, 1, 4, 6, 1]
    /// and `AveragedModel(use_buffers=False)` [6, 1, 0, 4, 3].
    private func twoEMASteps(_ buffers: WeightAverageBuffers, decay: Double = 0.5) -> (average: [Float], live: [Float]) {
        let initial = state(weight: 1, bias: 0, mean: 0, variance: 1, batches: 0)
        let averaging = WeightAveraging(copying: initial, plan: WeightAveragePlan(rule: .ema(decay: decay), buffers: buffers))
        averaging.stepFinished(live: state(weight: 3, bias: -2, mean: 4, variance: 9, batches: 1))
        let live = state(weight: 5, bias: 2, mean: 8, variance: 5, batches: 2)
        averaging.stepFinished(live: live)
        averaging.epochFinished(live: live, epoch: 1, of: 1)  // EMA does not update at epoch ends
        return (values(averaging.model), values(live))
    }

    func testEMATwoStepsForEachBufferPolicy() {
        // parameters: w = 0.5 * 1 + 0.5 * 3 = 2, then 0.5 * 2 + 0.5 * 5 = 3.5; b = -1, then 0.5
        // averaged (ModelEmaV2): mean 0 -> 2 -> 5, var 1 -> 5 -> 5, n trunc(0.5) = 0 -> trunc(0 + 1) = 1
        XCTAssertEqual(twoEMASteps(.averaged).average, [3.5, 0.5, 5, 5, 1])
        // live (ModelEmaV3 exclude_buffers=True): the live buffers of the last step
        XCTAssertEqual(twoEMASteps(.live).average, [3.5, 0.5, 8, 5, 2])
        // stale and recalibrated: the creation values until update_bn
        XCTAssertEqual(twoEMASteps(.stale).average, [3.5, 0.5, 0, 1, 0])
        XCTAssertEqual(twoEMASteps(.recalibrated).average, [3.5, 0.5, 0, 1, 0])
        // decay 0.75: n = trunc(0.25 * 1) = 0, then trunc(0.75 * 0 + 0.25 * 2) = 0
        XCTAssertEqual(twoEMASteps(.averaged, decay: 0.75).average[4], 0)
    }

    /// ModelEmaV2's update rounded as PyTorch rounds it: `ema.copy_(0.999 * ema + (1. - 0.999) * live)` twice
    /// on float32 tensors, and on an int64 `num_batches_tracked` over 2,000 steps; torch 2.x printed these
    /// values (`x.hex()`), so an FMA or a Float32 `1 - decay` would fail the exact comparison.
    func testEMARoundsAsTimmModelEmaV2InPyTorch() throws {
        var rng = RandomGenerator(seed: 0)
        let initial = Sequential([Linear(3, 1, bias: false, rng: &rng)])
        for (i, v) in [Float(0.1), -2.5, 3.0].enumerated() { initial.parameters[0].value[i] = v }
        let averaging = WeightAveraging(copying: initial, plan: WeightAveragePlan(rule: .ema(decay: 0.999), buffers: .averaged))
        let live = initial.clone()
        for (i, v) in [Float(0.7), 1.25, -0.3].enumerated() { live.parameters[0].value[i] = v }
        averaging.stepFinished(live: live)
        averaging.stepFinished(live: live)
        XCTAssertEqual(averaging.model.parameters[0].value.array,
                       [Float(0x1.9e8342p-4), -Float(0x1.3f0a5cp+1), Float(0x1.7f27d8p+1)])

        let counter = WeightAveraging(copying: state(weight: 1, bias: 0, mean: 0, variance: 1, batches: 0),
                                      plan: WeightAveragePlan(rule: .ema(decay: 0.999), buffers: .averaged))
        let bn = state(weight: 1, bias: 0, mean: 0, variance: 1, batches: 0)
        for step in 1...2000 {
            bn.runningStatisticsLayers[0].restoreRunningStatistics(RunningStatistics(mean: [0], variance: [1], batchesTracked: step))
            counter.stepFinished(live: bn)
        }
        XCTAssertEqual(counter.model.runningStatisticsLayers[0].numBatchesTracked, 1001,
                       "ModelEmaV2's num_batches_tracked after 2,000 steps at 0.999 (torch 2.x)")
    }

    func testSWAIsTheEqualWeightAverageOfTheEpochSnapshots() {
        // 8 epochs: SWA averages the ends of epochs 7 and 8; with 4 epochs only epoch 4.
        XCTAssertEqual(WeightAveragePlan.swaStartEpoch(of: 8), 7)
        XCTAssertEqual(WeightAveragePlan.swaStartEpoch(of: 30), 23)
        XCTAssertEqual(WeightAveragePlan.swaStartEpoch(of: 4), 4)
        XCTAssertEqual(WeightAveragePlan.swaStartEpoch(of: 1), 1)
        let snapshots = [state(weight: 7, bias: 7, mean: 7, variance: 7, batches: 7),  // epoch 9: before the start
                         state(weight: 3, bias: -2, mean: 4, variance: 9, batches: 1),
                         state(weight: 5, bias: 2, mean: 8, variance: 5, batches: 2),
                         state(weight: 10, bias: 3, mean: 0, variance: 4, batches: 3)]
        func average(_ buffers: WeightAverageBuffers) -> [Float] {
            let averaging = WeightAveraging(copying: state(weight: 1, bias: 0, mean: 0, variance: 1, batches: 0),
                                            plan: WeightAveragePlan(rule: .swa, buffers: buffers))
            for (i, live) in snapshots.enumerated() {
                averaging.stepFinished(live: live)  // SWA does not update at steps
                averaging.epochFinished(live: live, epoch: 9 + i, of: 12)  // the start: epoch 10
            }
            XCTAssertEqual(averaging.updates, 3)
            return values(averaging.model)
        }
        // w: copy 3, then 3 + (5 - 3) / 2 = 4, then 4 + (10 - 4) / 3 = 6 = (3 + 5 + 10) / 3; b (-2 + 2 + 3) / 3 = 1
        // averaged (use_buffers=True): mean 4, var 6; n copy 1, trunc(1 + 1 / 2) = 1, trunc(1 + 2 / 3) = 1
        XCTAssertEqual(average(.averaged), [6, 1, 4, 6, 1])
        XCTAssertEqual(average(.live), [6, 1, 0, 4, 3])
        XCTAssertEqual(average(.stale), [6, 1, 0, 1, 0])
    }

    func testTheLiveModelIsUntouched() {
        let live = state(weight: 3, bias: -2, mean: 4, variance: 9, batches: 1)
        for rule in [WeightAveragePlan.Rule.ema(decay: 0.5), .swa] {
            for buffers in WeightAverageBuffers.allCases {
                let averaging = WeightAveraging(copying: state(weight: 1, bias: 0, mean: 0, variance: 1, batches: 0),
                                                plan: WeightAveragePlan(rule: rule, buffers: buffers))
                for _ in 0..<3 {
                    averaging.stepFinished(live: live)
                    averaging.epochFinished(live: live, epoch: 1, of: 1)
                }
                XCTAssertEqual(values(live), [3, -2, 4, 9, 1], "\(rule) \(buffers)")
                XCTAssertFalse(averaging.model.layers[0] === live.layers[0])
            }
        }
    }

    /// A cell's training with and without an averaged model trains the same live model; `recalibrated`
    /// measures the stale averaged model after `update_bn`'s re-estimate (the mean-of-batch-variances
    /// recalibration over the whole training split at the training batch size), as done here by hand.
    func testRecalibratedIsTheRecalibrationOfTheAveragedWeights() throws {
        var trainRNG = RandomGenerator(seed: 5), testRNG = RandomGenerator(seed: 6)
        let data = PreparedData(train: Shapes.generate(count: 24, size: 12, rng: &trainRNG),
                                test: Shapes.generate(count: 10, size: 12, rng: &testRNG))
        func cell(_ plan: WeightAveragePlan?) -> Cell {
            Cell(model: ModelRecipe(architecture: .mlp(widths: [6])), optimizer: .sgd(SGDSettings(learningRate: 0.05)),
                 training: TrainingPlan(epochs: 2, batchSize: 8, weightAverage: plan), evaluation: EvaluationPlan(), seed: 3)
        }
        let plain = try CellRunner.trainModel(cell: cell(nil), data: data, onEpoch: nil)
        XCTAssertNil(plain.averaged)
        let stalePlan = WeightAveragePlan(rule: .ema(decay: 0.9), buffers: .stale)
        let stale = try CellRunner.trainModel(cell: cell(stalePlan), data: data, onEpoch: nil)
        XCTAssertEqual(stale.model.stateDict(), plain.model.stateDict(), "the live model trains as without averaging")
        let averaged = try XCTUnwrap(stale.averaged)
        XCTAssertEqual(runningStatistics(averaged), [RunningStatistics(mean: Array(repeating: 0, count: 6),
                                                                       variance: Array(repeating: 1, count: 6), batchesTracked: 0)])

        let recalibratedCell = cell(WeightAveragePlan(rule: .ema(decay: 0.9), buffers: .recalibrated))
        let measured = CellRunner.run(recalibratedCell, data: data)
        var rng = RandomGenerator(seed: 3).derived("weight-average-update-bn")
        try Recalibration.recalibrate(model: averaged, data: data.train, samples: 24, batchSize: 8,
                                      estimator: .meanOfBatchVariances, rng: &rng)
        XCTAssertEqual(runningStatistics(averaged)[0].batchesTracked, 3, "update_bn: one count per batch after the reset")
        let expected = try Evaluation.accuracy(model: averaged, data: data.test, batchSize: 64, mode: .eval).correct.percent
        XCTAssertEqual(measured[.testAccAveraged], expected)
        XCTAssertNotNil(measured[.testAccEvalMode])
        XCTAssertNil(CellRunner.run(cell(nil), data: data)[.testAccAveraged], "not measured without weight_average")
    }

    /// The settings as the spec reads them: ranges refused with the value, settings without effect refused,
    /// the decay kept as the decimal written, and the cell's plan.
    func testTheSpecSettings() throws {
        assertSpecError("weight_average ema\nema_decay 1", "t.spec:2:11: error: ema_decay must be in (0, 1), got '1'")
        assertSpecError("weight_average ema\nema_decay 0", "t.spec:2:11: error: ema_decay must be in (0, 1), got '0'")
        assertSpecError("weight_average swa\nema_decay 0.99",
                        "t.spec:2:11: error: 'ema_decay' is set but has no effect: weight_average is not ema")
        assertSpecError("weight_average_buffers live",
                        "t.spec:1:24: error: 'weight_average_buffers' is set but has no effect: weight_average is off")
        assertSpecError("weight_average mean",
                        "t.spec:1:16: error: weight_average must be one of off, ema, swa; got 'mean'")
        let spec = try parseSpec("weight_average ema\nsweep ema_decay 0.999 0.9999\nweight_average_buffers recalibrated")
        let plans = spec.cells().map { Cell($0, index: 0).training.weightAverage }
        XCTAssertEqual(plans, [WeightAveragePlan(rule: .ema(decay: 0.999), buffers: .recalibrated),
                               WeightAveragePlan(rule: .ema(decay: 0.9999), buffers: .recalibrated)])
        XCTAssertNotEqual(Double(Float(0.9999)), 0.9999, "the Double of the decimal, not of its Float32")
        XCTAssertNil(Cell(try parseSpec("epochs 2").cells()[0], index: 0).training.weightAverage)
        XCTAssertEqual(Cell(try parseSpec("weight_average swa").cells()[0], index: 0).training.weightAverage,
                       WeightAveragePlan(rule: .swa, buffers: .averaged))
    }
}
