import Datasets
@testable import Experiment
import NN
import SpecFormat
import TensorCore
import XCTest

/// `model resnet`: the spec syntax, the model the recipe builds (torchvision's names and structure,
/// every norm kind), and the harness walking into its blocks: the running-statistics probe, a whole
/// cell measured, a recorded run's dropout mask.
final class RunResNetTests: XCTestCase {
    func testSpecValuesAndCanonicalText() throws {
        let c = try parseSpec("model resnet blocks=1,1,1 channels=16,32,64").cells()[0]
        XCTAssertEqual(c.model, .resnet(blocks: [1, 1, 1], channels: [16, 32, 64], stem: 16))
        XCTAssertEqual(c.canonicalValue(of: "model"), "resnet blocks=1,1,1 channels=16,32,64 stem=16")
        XCTAssertEqual(try parseSpec("model resnet blocks=1,1,1 channels=16,32,64 stem=16").resolvedHash,
                       try parseSpec("model resnet blocks=1,1,1 channels=16,32,64").resolvedHash, "the default stem is C1")
        XCTAssertEqual(try parseSpec("model resnet blocks=2,2 channels=8,16 stem=4").cells()[0].model,
                       .resnet(blocks: [2, 2], channels: [8, 16], stem: 4))
    }

    func testSpecRefusals() {
        assertSpecError("model resnet blocks=1,1 channels=16,32,64",
                        "t.spec:1:34: error: resnet channels gives 3 stages, blocks 2: one width per stage")
        assertSpecError("model resnet channels=16", "t.spec:1:7: error: model resnet needs blocks=...")
        assertSpecError("model resnet blocks=0 channels=16", "t.spec:1:21: error: resnet blocks must be >= 1, got '0'")
        assertSpecError("model resnet blocks=1 channels=16 stem=0",
                        "t.spec:1:40: error: resnet stem must be >= 1, got '0'")
        // GroupNorm's groups must divide the stem too.
        assertSpecError("model resnet blocks=1 channels=16 stem=6\nnorm group\ngroups 4",
                        "t.spec:3:8: error: groups 4 does not divide channel count 6 of the model; GroupNorm needs"
                        + " groups to divide every channel count")
        assertSpecError("dataset csv path=x.csv\nmodel resnet blocks=1 channels=4",
                        "t.spec:1:9: error: model resnet needs images: give dataset csv a shape=CxHxW")
    }

    /// `norm fixup` only with `model resnet`, and with widths that never shrink; it builds Fixup's
    /// network (no norm layer, scalar biases, the zero classifier).
    func testNormFixup() throws {
        assertSpecError("norm fixup", "t.spec:1:6: error: norm fixup needs model resnet (Fixup initializes residual"
                        + " branches; there is none in a cnn)")
        assertSpecError("model mlp widths=4\nsweep norm batch fixup",
                        "t.spec:2:18: error: norm fixup needs model resnet (Fixup initializes residual branches; there"
                        + " is none in a mlp)")
        assertSpecError("model resnet blocks=1,1 channels=8,4\nnorm fixup",
                        "t.spec:1:7: error: norm fixup: widths must not shrink (its shortcut pads channels with zeros),"
                        + " got 8 -> 4")
        let cell = try parseSpec("model resnet blocks=1,1 channels=4,8\nnorm fixup").cells()[0]
        XCTAssertEqual(cell.norm, .fixup)
        XCTAssertFalse(cell.norm.usesBatchStatistics)
        let model = try Cell(cell, index: 0).model.build(channels: 1, height: 8, width: 8, classes: 3,
                                                         rng: RandomGenerator(seed: 1))
        XCTAssertEqual(model.namedChildren.map(\.name), ["conv1", "bias1", "relu", "layer1", "layer2", "avgpool", "bias2", "fc"])
        XCTAssertEqual(model.allLayers.filter { $0 is FixupBlock }.count, 2)
        XCTAssertTrue(model.runningStatisticsLayers.isEmpty)
        XCTAssertThrowsError(try ModelRecipe(architecture: .cnn(channels: [4], kernel: 3), norm: .fixup)
            .build(channels: 1, height: 8, width: 8, classes: 3, rng: RandomGenerator(seed: 1)))
    }

    private func build(_ norm: NormKind, dropout: Float = 0, stem: Int = 4) throws -> Sequential {
        try ModelRecipe(architecture: .resnet(blocks: [1, 2], channels: [4, 8], stem: stem), norm: norm, groups: 2,
                        dropout: dropout)
            .build(channels: 1, height: 7, width: 6, classes: 3, rng: RandomGenerator(seed: 2))
    }

    /// conv1 bn1 relu layer1 layer2 avgpool dropout fc; the stem skips its input gradient, every other
    /// conv computes it; no conv bias before a norm, a bias without one; LayerNorm of each site's shape.
    func testRecipeBuildsTheTorchvisionStructure() throws {
        let model = try build(.batch, dropout: 0.3)
        XCTAssertEqual(model.namedChildren.map(\.name), ["conv1", "bn1", "relu", "layer1", "layer2", "avgpool", "dropout", "fc"])
        let convs = model.allLayers.compactMap { $0 as? Conv2d }
        XCTAssertEqual(convs.map(\.computesInputGradient), [false] + Array(repeating: true, count: convs.count - 1))
        XCTAssertTrue(convs.allSatisfy { $0.bias == nil })
        XCTAssertEqual(convs.map(\.stride), [1, 1, 1, 2, 1, 2, 1, 1], "stem; layer1.0; layer2.0 (+ projection); layer2.1")
        XCTAssertEqual(model.runningStatisticsLayers.count, 1 + 2 + 3 + 2)
        XCTAssertEqual(model.namedDropoutLayers.map(\.path), ["dropout"])
        XCTAssertEqual(try model.forward(TestData.input(Shape(2, 1, 7, 6)), mode: .train).shape, Shape(2, 3))

        let plain = try build(.none)
        XCTAssertTrue(plain.allLayers.compactMap { $0 as? Conv2d }.allSatisfy { $0.bias != nil })
        XCTAssertEqual(plain.namedChildren.map(\.name), ["conv1", "relu", "layer1", "layer2", "avgpool", "fc"])

        let layerNorm = try build(.layer)
        XCTAssertEqual(layerNorm.allLayers.compactMap { ($0 as? LayerNorm)?.normalizedShape }.map { Array($0.dims.dropFirst()) },
                       [[4, 7, 6], [4, 7, 6], [4, 7, 6], [8, 4, 3], [8, 4, 3], [8, 4, 3], [8, 4, 3], [8, 4, 3]])
        XCTAssertEqual(try layerNorm.forward(TestData.input(Shape(1, 1, 7, 6)), mode: .train).shape, Shape(1, 3))
        XCTAssertEqual(try build(.group).allLayers.filter { $0 is GroupNorm }.count, 8)
        XCTAssertEqual(try build(.batch, stem: 3).allLayers.compactMap { ($0 as? ResidualBlock)?.downsample }.count, 2,
                       "a stem of 3 channels makes layer1.0 project at stride 1")
    }

    /// The probe measures the input of a BatchNorm inside a block: with `layer1.0.bn1`'s running
    /// statistics set to the population moments of that input (computed here by running the stem and
    /// the block's conv1 by hand in eval mode), its errors vanish.
    func testProbeReachesTheBatchNormsInsideBlocks() throws {
        let model = try build(.batch)
        let data = try offsetImages(count: 9, channels: 1, height: 7, width: 6, seed: 3)
        let block = try XCTUnwrap((model.layers[3] as? Sequential)?.layers[0] as? ResidualBlock)
        let target = try XCTUnwrap(block.norm1 as? BatchNorm)
        var sums = [Double](repeating: 0, count: 4), squares = sums, count = 0.0
        try BatchAssembler().forEachBatch(data, batchSize: 4) { input, _, _ in
            var h = input
            for layer in model.layers[0...2] { h = try layer.forward(h, mode: .eval) }
            h = try block.conv1.clone().forward(h, mode: .eval)
            let hw = h.shape.spatial
            for n in 0..<h.shape.batch {
                for c in 0..<4 {
                    for j in 0..<hw { let v = Double(h.data[(n * 4 + c) * hw + j]); sums[c] += v; squares[c] += v * v }
                }
            }
            count += Double(h.shape.batch * hw)
        }
        for c in 0..<4 {
            let mean = sums[c] / count
            target.runningMean.data[c] = Float(mean)
            target.runningVar.data[c] = Float(squares[c] / count - mean * mean)
        }
        let errors = try RunningStatisticsProbe.measure(model: model, data: data, batchSize: 4).errors
        XCTAssertEqual(errors.count, 8)
        XCTAssertEqual(errors.map(\.layerIndex), Array(0..<8))
        XCTAssertEqual(errors.map(\.channels), [4, 4, 4, 8, 8, 8, 8, 8])
        // Float statistics from Double sums: 1e-5 of units of sigma.
        XCTAssertEqual(errors[1].meanError, 0, accuracy: 1e-5)
        XCTAssertEqual(errors[1].varianceError, 0, accuracy: 1e-5)
        XCTAssertGreaterThan(errors[2].meanError + errors[2].varianceError, 0.01, "bn2 keeps its initial statistics")
    }

    /// A whole cell: trains, evaluates (every mode, recalibration inside the blocks) and records its
    /// dropout masks under the module path `dropout`.
    func testACellTrainsMeasuresAndRecords() throws {
        let cell = Cell(model: ModelRecipe(architecture: .resnet(blocks: [1, 1], channels: [3, 4], stem: 3), dropout: 0.5),
                        optimizer: .sgd(SGDSettings(learningRate: 0.05, momentum: 0.9)),
                        training: TrainingPlan(epochs: 1, batchSize: 4, dropLast: true),
                        evaluation: EvaluationPlan(evalBatchSize: 7, recalibrateBatchSize: 5), seed: 5)
        var trainRNG = RandomGenerator(seed: 21), testRNG = RandomGenerator(seed: 22)
        let data = PreparedData(train: Shapes.generate(count: 16, size: 12, rng: &trainRNG),
                                test: Shapes.generate(count: 8, size: 12, rng: &testRNG))
        let measured = CellRunner.run(cell, data: data)
        XCTAssertEqual(measured.status, .ok)
        XCTAssertEqual(measured.statisticsErrors.count, 1 + 2 + 3)
        XCTAssertEqual(measured.recalibratedStatisticsErrors.count, 1 + 2 + 3)
        XCTAssertTrue(measured.values.values.allSatisfy(\.isFinite), "\(measured.values)")
        let recorder = TrainingRecorder(fullStateSteps: 1)
        _ = try CellRunner.trainModel(cell: cell, data: data, onEpoch: nil, observer: recorder)
        let mask = try XCTUnwrap(recorder.stepsFile().tensors["dropout_mask.dropout"])
        XCTAssertEqual(mask.shape, [16, 4], "4 steps of 4 samples, 4 pooled features")
        XCTAssertNotNil(recorder.initialState?.tensors["layer2.0.downsample.1.running_var"])
    }
}

/// Inputs for shape checks.
enum TestData {
    static func input(_ shape: Shape) -> Tensor {
        var rng = RandomGenerator(seed: 9)
        return Tensor(shape, (0..<shape.count).map { _ in rng.normal() })
    }
}

/// `model resnet` with the remedies that main refused until the blocks built them: the spec takes
/// them, the recipe builds each as ``ResidualNetwork`` documents it, and a whole cell runs.
final class RunResNetRemedyTests: XCTestCase {
    private func build(_ norm: NormKind) throws -> Sequential {
        try ModelRecipe(architecture: .resnet(blocks: [1, 1], channels: [4, 8], stem: 4), norm: norm, groups: 2,
                        mabn: MABNSettings(bufferSize: 2, warmupIterations: 0))
            .build(channels: 1, height: 6, width: 6, classes: 3, rng: RandomGenerator(seed: 3))
    }

    private func blocks(_ model: Sequential) -> [ResidualBlock] { model.allLayers.compactMap { $0 as? ResidualBlock } }

    func testSpecTakesEveryRemedyWithResNet() throws {
        let cells = try parseSpec("model resnet blocks=1,1 channels=4,8\nsweep norm mabn cbn frn evonorm_s0 evonorm_b0\n"
                                  + "groups 2\nactivation leaky_relu").cells()
        XCTAssertEqual(cells.map(\.norm), [.mabn, .cbn, .frn, .evonormS0, .evonormB0])
        // The activation acts after every addition, so it is not "set but without effect" with frn alone.
        XCTAssertNoThrow(try parseSpec("model resnet blocks=1 channels=4\nnorm frn\nactivation leaky_relu").cells())
        assertSpecError("model cnn channels=4\nnorm frn\nactivation leaky_relu",
                        "t.spec:3:12: error: 'activation' is set but has no effect: every cell uses a norm that brings"
                        + " its own nonlinearity (frn, evonorm_s0, evonorm_b0) in a model without residual additions")
    }

    /// With its nonlinearity at the stem's and each block's bn1 (no relu module there), without it at
    /// bn2 and downsample.1, the ReLU after each addition kept.
    func testNormActivationLayersPlacedAsTimm() throws {
        for norm in [NormKind.frn, .evonormS0, .evonormB0] {
            let model = try build(norm)
            XCTAssertEqual(model.namedChildren.map(\.name), ["conv1", "bn1", "layer1", "layer2", "avgpool", "fc"], "\(norm)")
            XCTAssertEqual((model.layers[1] as? NormalizationActivation)?.appliesActivation, true)
            for block in blocks(model) {
                XCTAssertNil(block.activation1)
                XCTAssertTrue(block.activation2 is ReLU)
                XCTAssertEqual((block.norm1 as? NormalizationActivation)?.appliesActivation, true, "\(norm) bn1")
                XCTAssertEqual((block.norm2 as? NormalizationActivation)?.appliesActivation, false, "\(norm) bn2")
            }
            let projectionNorm = try XCTUnwrap(blocks(model)[1].downsample?.children.last as? NormalizationActivation)
            XCTAssertFalse(projectionNorm.appliesActivation)
            XCTAssertTrue(model.allLayers.compactMap { $0 as? Conv2d }.allSatisfy { $0.bias == nil })
            XCTAssertEqual(try model.forward(TestData.input(Shape(2, 1, 6, 6)), mode: .train).shape, Shape(2, 3))
        }
        let keys = try build(.frn).stateDictEntries.map(\.key)
        XCTAssertTrue(keys.contains("bn1.tau") && keys.contains("layer2.0.bn1.tau"))
        XCTAssertFalse(keys.contains { $0.hasSuffix("bn2.tau") || $0.hasSuffix("downsample.1.tau") }, "\(keys)")
        XCTAssertEqual(try build(.evonormB0).stateDictEntries.map(\.key).filter { $0.hasPrefix("layer2.0.downsample.1.") },
                       ["layer2.0.downsample.1.weight", "layer2.0.downsample.1.bias", "layer2.0.downsample.1.running_var"])
    }

    /// MABN: every conv (stem, conv1, conv2, projection) centred without bias; the authors' buffers.
    func testMABNCentresEveryConv() throws {
        let model = try build(.mabn)
        let convs = model.allLayers.compactMap { $0 as? Conv2d }
        XCTAssertEqual(convs.count, 6)
        XCTAssertTrue(convs.allSatisfy { $0.centredWeights && $0.bias == nil })
        XCTAssertEqual(model.namedChildren.map(\.name), ["conv1", "bn1", "relu", "layer1", "layer2", "avgpool", "fc"])
        XCTAssertEqual(model.stateDictEntries.map(\.key).filter { $0.hasPrefix("layer2.0.downsample.1.") },
                       ["layer2.0.downsample.1.weight", "layer2.0.downsample.1.bias", "layer2.0.downsample.1.running_var",
                        "layer2.0.downsample.1.iters", "layer2.0.downsample.1.buffer_x2", "layer2.0.downsample.1.buffer_gz"])
    }

    /// CBN: each conv and its norm one ConvCrossIterationBatchNorm, under the authors' mmdet keys.
    func testCBNJoinsEveryConvWithItsNorm() throws {
        let model = try build(.cbn)
        XCTAssertEqual(model.allLayers.filter { $0 is ConvCrossIterationBatchNorm }.count, 1 + 2 + 3)
        XCTAssertTrue(model.layers[0] is ConvCrossIterationBatchNorm, "the stem")
        XCTAssertEqual(model.namedChildren.map(\.name), ["conv1", "bn1", "relu", "layer1", "layer2", "avgpool", "fc"])
        XCTAssertEqual(model.stateDictEntries.map(\.key).filter { !$0.hasPrefix("layer1.") && !$0.hasPrefix("fc.") }, [
            "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
            "layer2.0.conv1.weight", "layer2.0.bn1.weight", "layer2.0.bn1.bias", "layer2.0.bn1.running_mean",
            "layer2.0.bn1.running_var", "layer2.0.conv2.weight", "layer2.0.bn2.weight", "layer2.0.bn2.bias",
            "layer2.0.bn2.running_mean", "layer2.0.bn2.running_var", "layer2.0.downsample.0.weight",
            "layer2.0.downsample.1.weight", "layer2.0.downsample.1.bias", "layer2.0.downsample.1.running_mean",
            "layer2.0.downsample.1.running_var",
        ])
        let copy = model.clone()
        XCTAssertEqual(copy.stateDictEntries.map(\.key), model.stateDictEntries.map(\.key))
    }

    /// A whole cell of each: trains, evaluates in every mode, all values finite.
    func testACellOfEachTrainsAndMeasures() throws {
        var trainRNG = RandomGenerator(seed: 31), testRNG = RandomGenerator(seed: 32)
        let data = PreparedData(train: Shapes.generate(count: 16, size: 12, rng: &trainRNG),
                                test: Shapes.generate(count: 8, size: 12, rng: &testRNG))
        for norm in [NormKind.mabn, .cbn, .frn, .evonormS0, .evonormB0] {
            let cell = Cell(model: ModelRecipe(architecture: .resnet(blocks: [1, 1], channels: [2, 4], stem: 2), norm: norm,
                                               groups: 2),
                            optimizer: .sgd(SGDSettings(learningRate: 0.05, momentum: 0.9)),
                            training: TrainingPlan(epochs: 1, batchSize: 4, dropLast: true),
                            evaluation: EvaluationPlan(evalBatchSize: 8, recalibrateBatchSize: 4), seed: 5)
            let measured = CellRunner.run(cell, data: data)
            XCTAssertEqual(measured.status, .ok, "\(norm): \(measured.status)")
            XCTAssertTrue(measured.values.values.allSatisfy(\.isFinite), "\(norm): \(measured.values)")
        }
    }
}
