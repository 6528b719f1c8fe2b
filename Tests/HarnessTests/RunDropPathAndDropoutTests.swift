import Datasets
@testable import Experiment
import NN
import SpecFormat
import TensorCore
import XCTest

/// `drop_path`, `dropout_convention` and `dropout_in_eval` (case 5 of #14): the spec syntax and its
/// refusals, the model the recipe builds (timm's per-block rates, no new state), and the measured
/// column `test_acc_eval_mixed_dropout`.
final class RunDropPathAndDropoutTests: XCTestCase {
    static let resnet = "model resnet blocks=1,1,1 channels=4,8,8\n"

    func testSpecValuesAndCanonicalText() throws {
        let c = try parseSpec(Self.resnet + "drop_path 0.2\ndropout 0.3\ndropout_convention classical\ndropout_in_eval on")
            .cells()[0]
        XCTAssertEqual(c.dropPathRate, 0.2)
        XCTAssertEqual(c.dropoutConvention, .classical)
        XCTAssertTrue(c.dropoutInEval)
        XCTAssertTrue(c.canonicalDescription.contains("dropout 0.3\ndropout_convention classical\ndropout_in_eval on\n"
                                                      + "drop_path 0.2\n"), c.canonicalDescription)
        // At their defaults the keys are left out: every cell written before them keeps its hash.
        let plain = try parseSpec("epochs 2").cells()[0]
        XCTAssertEqual(plain.dropPathRate, 0)
        XCTAssertEqual(plain.dropoutConvention, .inverted)
        XCTAssertFalse(plain.dropoutInEval)
        for key in ["drop_path", "dropout_convention", "dropout_in_eval"] {
            XCTAssertFalse(plain.canonicalDescription.contains(key), key)
        }
        XCTAssertEqual(try parseSpec("epochs 2\ndropout 0.2\ndropout_convention inverted\ndropout_in_eval off").resolvedHash,
                       try parseSpec("epochs 2\ndropout 0.2").resolvedHash)
        let swept = try parseSpec(Self.resnet + "sweep drop_path 0 0.1 0.2").cells()
        XCTAssertEqual(swept.map(\.dropPathRate), [0, 0.1, 0.2])
    }

    func testSpecRefusals() {
        assertSpecError("drop_path 0.1", "t.spec:1:11: error: drop_path needs model resnet (it drops residual branches;"
                        + " there is none in a cnn)")
        assertSpecError("model mlp widths=4\nsweep drop_path 0 0.1",
                        "t.spec:2:17: error: drop_path needs model resnet (it drops residual branches; there is none in a mlp)")
        assertSpecError(Self.resnet + "drop_path 1", "t.spec:2:11: error: drop_path must be in [0, 1), got '1'")
        assertSpecError(Self.resnet + "drop_path -0.1", "t.spec:2:11: error: drop_path must be in [0, 1), got '-0.1'")
        assertSpecError("model resnet blocks=1 channels=4\ndrop_path 0.1",
                        "t.spec:2:11: error: drop_path 0.1 needs at least 2 residual blocks: the per-block rate drop_path"
                        + " * i / (L - 1) divides by zero with L = 1 (timm raises ZeroDivisionError)")
        assertSpecError(Self.resnet + "norm fixup\ndrop_path 0.1",
                        "t.spec:3:11: error: drop_path is not built into Fixup's blocks (norm fixup); it is with the other"
                        + " norms of model resnet")
        assertSpecError("dropout_convention classical",
                        "t.spec:1:20: error: 'dropout_convention' is set but has no effect: no cell has dropout > 0")
        assertSpecError("dropout_in_eval on", "t.spec:1:17: error: 'dropout_in_eval' is set but has no effect: no cell has"
                        + " dropout > 0")
        assertSpecError("dropout 0.2\ndropout_convention classic",
                        "t.spec:2:20: error: dropout_convention must be one of inverted, classical; got 'classic'; did you mean 'classical'?")
    }

    private func build(dropPath: Float, seed: UInt64 = 2) throws -> Sequential {
        try ModelRecipe(architecture: .resnet(blocks: [1, 2], channels: [4, 8], stem: 4), dropPathRate: dropPath)
            .build(channels: 1, height: 6, width: 6, classes: 3, rng: RandomGenerator(seed: seed))
    }

    /// Blocks 0, 1, 2 of 3 get timm's rates 0 (no layer), 0.15 and 0.3; each block's DropPath sits on its
    /// residual branch under timm's name; the state dict (names and values) is the one without DropPath,
    /// and the initial weights do not depend on the setting.
    func testRecipeBuildsTimmsPerBlockRatesAndNoState() throws {
        let model = try build(dropPath: 0.3)
        let blocks = model.allLayers.compactMap { $0 as? ResidualBlock }
        XCTAssertEqual(blocks.map { $0.dropPath?.dropProbability }, [nil, Float(0.3 * 1 / 2), 0.3])
        XCTAssertEqual(DropPath.linearDecayRates(0.3, blocks: 3), [0, Float(0.3 * 1 / 2), 0.3])
        XCTAssertEqual(blocks[1].namedChildren.map(\.name), ["conv1", "bn1", "relu", "conv2", "bn2", "downsample",
                                                              "drop_path", "relu2"])
        XCTAssertEqual(blocks[2].namedChildren.map(\.name), ["conv1", "bn1", "relu", "conv2", "bn2", "drop_path", "relu2"])
        let plain = try build(dropPath: 0)
        XCTAssertTrue(plain.allLayers.allSatisfy { !($0 is DropPath) })
        XCTAssertEqual(model.stateDictEntries.map(\.key), plain.stateDictEntries.map(\.key))
        XCTAssertEqual(model.stateDictEntries.map { $0.value.floats ?? [] }, plain.stateDictEntries.map { $0.value.floats ?? [] })
        XCTAssertTrue(model.dropoutLayers.isEmpty)
        XCTAssertEqual(model.stochasticLayers.count, 2)

        // Train mode drops whole samples of a block's branch; eval mode is the model without DropPath.
        let x = TestData.input(Shape(6, 1, 6, 6))
        XCTAssertEqual(try model.forward(x, mode: .eval).array, try plain.forward(x, mode: .eval).array)
        XCTAssertNotEqual(try model.forward(x, mode: .train).array, try plain.forward(x, mode: .train).array)
        XCTAssertEqual(try XCTUnwrap(blocks[2].dropPath?.lastMask).count, 6)
        XCTAssertThrowsError(try ModelRecipe(architecture: .mlp(widths: [4]), dropPathRate: 0.1)
            .build(channels: 1, height: 6, width: 6, classes: 3, rng: RandomGenerator(seed: 1)))
    }

    /// The recipe hands its convention and the bug switch to every Dropout; with the bug, eval mode of a
    /// model draws (two eval passes differ).
    func testRecipeBuildsTheDropoutSettings() throws {
        let model = try ModelRecipe(architecture: .mlp(widths: [5, 4]), dropout: 0.5, dropoutConvention: .classical,
                                    dropoutInEval: true)
            .build(channels: 1, height: 4, width: 4, classes: 3, rng: RandomGenerator(seed: 3))
        XCTAssertEqual(model.dropoutLayers.map(\.convention), [.classical, .classical])
        XCTAssertEqual(model.dropoutLayers.map(\.activeInEval), [true, true])
        let x = TestData.input(Shape(8, 1, 4, 4))
        XCTAssertNotEqual(try model.forward(x, mode: .eval).array, try model.forward(x, mode: .eval).array)
    }

    private func cell(dropout: Float, convention: DropoutConvention) -> Cell {
        Cell(model: ModelRecipe(architecture: .mlp(widths: [16]), norm: .none, dropout: dropout,
                                dropoutConvention: convention),
             optimizer: .sgd(SGDSettings(learningRate: 0.05, momentum: 0.9)),
             training: TrainingPlan(epochs: 2, batchSize: 8),
             evaluation: EvaluationPlan(evalBatchSize: 16, mixedDropoutEval: true), seed: 4)
    }

    private var data: PreparedData {
        var trainRNG = RandomGenerator(seed: 31), testRNG = RandomGenerator(seed: 32)
        return PreparedData(train: Shapes.generate(count: 48, size: 12, rng: &trainRNG),
                            test: Shapes.generate(count: 24, size: 12, rng: &testRNG))
    }

    /// The mixed model holds exactly the trained state under the other convention; its eval output is
    /// the trained model's scaled through the other rule (for an mlp without norm, a Dropout before the
    /// last Linear: `W (keep * h) + b` against `W h + b`). Measured only with dropout, and not with dropout in eval mode (no eval rule applies).
    func testMixedDropoutColumn() throws {
        let data = self.data
        for convention in DropoutConvention.allCases {
            let c = cell(dropout: 0.5, convention: convention)
            let trained = try CellRunner.trainModel(cell: c, data: data, onEpoch: nil).model
            let mixed = try CellRunner.withOtherDropoutConvention(trained, cell: c, data: data)
            XCTAssertEqual(mixed.dropoutLayers.map(\.convention), [convention == .inverted ? .classical : .inverted])
            XCTAssertEqual(mixed.parameters.map(\.value.array), trained.parameters.map(\.value.array))
            let x = TestData.input(Shape(3, 1, 12, 12))
            let a = try trained.forward(x, mode: .eval).array, b = try mixed.forward(x, mode: .eval).array
            XCTAssertNotEqual(a, b, "\(convention): the eval rules differ")
            let measured = CellRunner.run(c, data: data)
            XCTAssertEqual(measured.status, .ok)
            XCTAssertNotNil(measured[.testAccEvalMixedDropout], "\(convention)")
        }
        XCTAssertNil(CellRunner.run(cell(dropout: 0, convention: .inverted), data: data)[.testAccEvalMixedDropout])
        var notAsked = cell(dropout: 0.5, convention: .inverted)
        notAsked.evaluation.mixedDropoutEval = false
        XCTAssertNil(CellRunner.run(notAsked, data: data)[.testAccEvalMixedDropout], "mixed_dropout_eval off")
        var buggy = cell(dropout: 0.5, convention: .inverted)
        buggy.model.dropoutInEval = true
        XCTAssertNil(CellRunner.run(buggy, data: data)[.testAccEvalMixedDropout], "dropout in eval mode: no eval rule to mix")
    }
}
