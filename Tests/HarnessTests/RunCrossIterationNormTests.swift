import Experiment
import SpecFormat
import NN
import TensorCore
import XCTest

/// The cross-iteration normalizations in the harness: the spec syntax and its refusals, the model the
/// recipe builds, the state-dict keys, and what recalibration and the statistics probe do with them
/// (recalibration refuses, so test_acc_recalibrated stays empty with the reason; the probe measures
/// only BatchNorm's running statistics, so its columns stay empty).
final class RunCrossIterationNormTests: XCTestCase {
    // MARK: MABN

    func testMABNSettingsParseAndRender() throws {
        let cell = try XCTUnwrap(parseSpec("norm mabn\nmabn buffer=4 warmup=10").cells().first)
        XCTAssertEqual(cell.norm, .mabn)
        XCTAssertEqual(cell.mabn, MABNSettings(bufferSize: 4, warmupIterations: 10))
        XCTAssertEqual(cell.canonicalValue(of: "mabn"), "buffer=4 warmup=10")
        XCTAssertEqual(try XCTUnwrap(parseSpec("norm mabn").cells().first).mabn, MABNSettings(bufferSize: 16, warmupIterations: 100))
    }

    func testMABNRefusals() {
        assertSpecError("norm mabn\nmabn buffer=0", "t.spec:2:13: error: mabn buffer must be >= 1, got '0'")
        assertSpecError("mabn warmup=5", "t.spec:1:6: error: 'mabn' is set but has no effect: no cell uses norm mabn")
        assertSpecError("norm mabn\nmomentum 0.2",
                        "t.spec:2:10: error: 'momentum' is set but has no effect: no cell uses a norm whose running statistics follow it (batch, batchrenorm, cbn or evonorm_b0)")
        assertSpecError("model mlp widths=4\nnorm mabn", "t.spec:2:6: error: norm mabn needs model cnn or resnet: MABN.py defines"
                        + " MABN2d and its centred conv (CenConv2d) for (N, C, H, W) conv features only")
    }

    func testMABNRecipeCentresEveryConvWithoutBias() throws {
        let model = try ModelRecipe(architecture: .cnn(channels: [3, 4], kernel: 3), norm: .mabn,
                                    mabn: MABNSettings(bufferSize: 2, warmupIterations: 5))
            .build(channels: 1, height: 8, width: 8, classes: 2, rng: RandomGenerator(seed: 1))
        let convs = model.layers.compactMap { $0 as? Conv2d }
        XCTAssertEqual(convs.map(\.centredWeights), [true, true])
        XCTAssertEqual(convs.map { $0.bias == nil }, [true, true])
        let norms = model.layers.compactMap { $0 as? MovingAverageBatchNorm }
        XCTAssertEqual(norms.map(\.bufferSize), [2, 2])
        XCTAssertEqual(norms.map(\.warmupIterations), [5, 5])
        XCTAssertEqual(model.stateDictEntries.map(\.key).prefix(7),
                       ["0.weight", "1.weight", "1.bias", "1.running_var", "1.iters", "1.buffer_x2", "1.buffer_gz"])
        XCTAssertEqual(model.stateDictEntries.first { $0.key == "1.running_var" }?.shape, [1, 3, 1, 1])
        XCTAssertThrowsError(try ModelRecipe(architecture: .mlp(widths: [4]), norm: .mabn)
            .build(channels: 1, height: 2, width: 2, classes: 2, rng: RandomGenerator(seed: 1)))
    }

    func testMABNStateDictRoundTrip() throws {
        let recipe = ModelRecipe(architecture: .cnn(channels: [2], kernel: 3), norm: .mabn,
                                 mabn: MABNSettings(bufferSize: 2, warmupIterations: 0))
        let model = try recipe.build(channels: 1, height: 4, width: 4, classes: 2, rng: RandomGenerator(seed: 1))
        let x = Tensor(Shape(2, 1, 4, 4), (0..<32).map { Float($0 % 7) / 3 - 1 })
        for _ in 0..<3 { _ = model.backward(Tensor(try model.forward(x, mode: .train).shape, Array(repeating: 0.1, count: 4))) }
        let file = model.stateDict()
        XCTAssertEqual(file.tensors["1.iters"]?.integers, [3])
        let other = try recipe.build(channels: 1, height: 4, width: 4, classes: 2, rng: RandomGenerator(seed: 2))
        try other.load(stateDict: file)
        let norm = try XCTUnwrap(other.layers[1] as? MovingAverageBatchNorm)
        let original = try XCTUnwrap(model.layers[1] as? MovingAverageBatchNorm)
        XCTAssertEqual(norm.iterations, 3)
        XCTAssertEqual(norm.bufferX2.array, original.bufferX2.array)
        XCTAssertEqual(norm.bufferGZ.array, original.bufferGZ.array)
        XCTAssertEqual(try other.forward(x, mode: .eval).array, try model.forward(x, mode: .eval).array)
    }

    // MARK: CBN

    func testCBNSettingsParseAndRender() throws {
        let cell = try XCTUnwrap(parseSpec("norm cbn\ncbn buffer=2 burnin=50 rho=0.5 two_stage=off\nmomentum 0.2").cells().first)
        XCTAssertEqual(cell.cbn, CBNSettings(bufferSize: 2, burnin: 50, rho: 0.5, twoStage: false))
        XCTAssertEqual(cell.canonicalValue(of: "cbn"), "buffer=2 burnin=50 rho=0.5 two_stage=off")
        XCTAssertEqual(try XCTUnwrap(parseSpec("norm cbn").cells().first).cbn, CBNSettings(bufferSize: 3, burnin: 0, rho: 1, twoStage: true))
    }

    func testCBNRefusals() {
        assertSpecError("cbn buffer=2", "t.spec:1:5: error: 'cbn' is set but has no effect: no cell uses norm cbn")
        assertSpecError("norm cbn\ncbn two_stage=off", "t.spec:2:15: error: cbn two_stage off ramps the buffer over burnin"
                        + " iterations and needs burnin >= 1, got burnin 0")
        assertSpecError("model mlp widths=4\nnorm cbn", "t.spec:2:6: error: norm cbn needs model cnn or resnet: CBN.py's CBatchNorm2d"
                        + " compensates its statistics through the preceding conv's weight")
        assertSpecError("norm cbn\nmomentum cumulative", "t.spec:2:10: error: momentum cumulative is not defined for norm cbn:"
                        + " CBN.py's momentum is a number")
        assertSpecError("norm cbn\nghost_batch_size 4",
                        "t.spec:2:18: error: 'ghost_batch_size' is set but has no effect: no cell uses norm batch")
    }

    func testCBNRecipeJoinsEachBiasFreeConvToItsNorm() throws {
        let recipe = ModelRecipe(architecture: .cnn(channels: [3, 4], kernel: 3), norm: .cbn, momentum: .exponential(0.2),
                                 cbn: CBNSettings(bufferSize: 2, burnin: 1))
        let model = try recipe.build(channels: 1, height: 8, width: 8, classes: 2, rng: RandomGenerator(seed: 1))
        let blocks = model.layers.compactMap { $0 as? ConvCrossIterationBatchNorm }
        XCTAssertEqual(blocks.count, 2)
        XCTAssertEqual(blocks.map { $0.conv.bias == nil }, [true, true])
        XCTAssertEqual(blocks.map(\.norm.momentum), [0.2, 0.2])
        XCTAssertEqual(blocks.map(\.conv.computesInputGradient), [false, true])
        XCTAssertEqual(model.stateDictEntries.map(\.key).prefix(5),
                       ["0.0.weight", "0.1.weight", "0.1.bias", "0.1.running_mean", "0.1.running_var"])
        // A clone's norm reads the clone's conv: training the clone leaves the original as it was.
        let x = Tensor(Shape(2, 1, 8, 8), (0..<128).map { Float($0 % 11) / 5 - 1 })
        let copy = model.clone()
        for _ in 0..<3 { _ = try copy.forward(x, mode: .train) }
        XCTAssertEqual(blocks[0].norm.historyCount, 0)
        XCTAssertEqual((copy.layers[0] as? ConvCrossIterationBatchNorm)?.norm.historyCount, 2)
    }

    // MARK: Recalibration and the probe

    func testRecalibrationRefusesAndTheProbeSkipsCrossIterationLayers() throws {
        let data = try offsetImages(count: 8, channels: 1, height: 4, width: 4, seed: 3)
        for recipe in crossIterationRecipes {
            let model = try recipe.build(channels: 1, height: 4, width: 4, classes: 2, rng: RandomGenerator(seed: 1))
            var rng = RandomGenerator(seed: 4)
            XCTAssertThrowsError(try Recalibration.recalibrate(model: model, data: data, samples: 8, batchSize: 4,
                                                               estimator: .population, rng: &rng)) { error in
                XCTAssertTrue("\(error)".contains("recalibration re-estimates BatchNorm running means and variances"), "\(error)")
            }
            let probe = try RunningStatisticsProbe.measure(model: model, data: data, batchSize: 4)
            XCTAssertEqual(probe.errors, [], "\(recipe.norm): the probe measures BatchNorm statistics only")
            XCTAssertEqual(probe.accuracy.samples, 8)
        }
    }

    /// One recipe per cross-iteration normalization.
    private var crossIterationRecipes: [ModelRecipe] {
        [ModelRecipe(architecture: .cnn(channels: [2], kernel: 3), norm: .mabn),
         ModelRecipe(architecture: .cnn(channels: [2], kernel: 3), norm: .cbn)]
    }
}
