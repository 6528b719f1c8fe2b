import NN
import TensorCore
import XCTest

/// The residual network (``ResidualNetwork``, ``ResidualBlock``) against PyTorch: torchvision's
/// `BasicBlock` ResNet-8 as scripts/pytorch_golden.py writes it (`resnet8_sgd_3steps_*`), trained 3
/// SGD steps in train mode from the fixture's weights, then one eval-mode forward; and the state-dict
/// keys and shapes of every norm kind (`resnet_state_dict_keys`).
final class PyTorchGoldenResNetTests: XCTestCase {
    override class func tearDown() {
        print(GoldenErrorRecord.shared.summary([.resnetTraining]))
        super.tearDown()
    }

    /// The norm of a site as the golden script's `norm_factory` makes it.
    static func norm(_ kind: String, groups: Int = 2) -> (ResidualNetwork.NormSite) throws -> Layer? {
        { site in
            switch kind {
            case "batch": return BatchNorm(site.channels)
            case "group": return try GroupNorm(groups: groups, channels: site.channels)
            case "layer": return LayerNorm(sampleShape: site.sampleShape)
            default: return nil
            }
        }
    }

    /// The fixture's `PREFIX*` tensors and counters as a state-dict file, keys without the prefix;
    /// the tensors under `integerKeys` (MABN2d's `iters`, a LongTensor of shape [1], recorded as exact
    /// floats) as I64.
    static func stateFile(_ fixture: Fixture, prefix: String, integerKeys: Set<String> = []) -> SafeTensorsFile {
        var tensors: [String: SafeTensor] = [:]
        for name in fixture.tensorNames where name.hasPrefix(prefix) && !name.dropFirst(prefix.count).contains("grad.") {
            let t = fixture.tensor(name), key = String(name.dropFirst(prefix.count))
            tensors[key] = integerKeys.contains(key) ? SafeTensor(t.values.map { Int64($0) }, shape: t.shape)
                : SafeTensor(t.values, shape: t.shape)
        }
        for name in fixture.scalarNames where name.hasPrefix(prefix) {
            tensors[String(name.dropFirst(prefix.count))] = SafeTensor([Int64(fixture.scalar(name))], shape: [])
        }
        return SafeTensorsFile(tensors: tensors)
    }

    /// Every state entry against the fixture's `PREFIX<key>` (counters exactly); the model's keys must
    /// be exactly the fixture's, so no PyTorch tensor goes unchecked.
    static func assertState(_ model: Sequential, _ check: GoldenChecker, prefix: String, _ tolerance: GoldenTolerance,
                            file: StaticString = #filePath, line: UInt = #line) {
        let recorded = stateFile(check.fixture, prefix: prefix)
        XCTAssertEqual(model.stateDictEntries.map(\.key).sorted(), recorded.tensors.keys.sorted(),
                       "\(check.fixture.name): \(prefix)* keys", file: file, line: line)
        for entry in model.stateDictEntries {
            if let floats = entry.value.floats {
                check.assertClose(floats, prefix + entry.key, tolerance, file: file, line: line)
            } else {
                let expected = check.fixture.tensorNames.contains(prefix + entry.key)
                    ? check.fixture.tensor(prefix + entry.key).values.map { Int64($0) }
                    : [Int64(check.fixture.scalar(prefix + entry.key))]
                XCTAssertEqual(entry.value.integers?.map { Int64($0) }, expected,
                               "\(check.fixture.name): \(prefix)\(entry.key)", file: file, line: line)
            }
        }
    }

    /// Trains `model` as `sgd_training` in the golden script: SGD(lr 0.1, momentum 0.9, weight decay
    /// 5e-4) on `stepK.x`/`stepK.labels` in train mode, the loss of every step and the gradients of
    /// step 1 compared; then the final state and the eval-mode logits of `eval.x`. The initial state is
    /// loaded with `load(stateDict:strict: true)`: every key and shape must be PyTorch's.
    /// `keysInOrder: false` compares the keys as a set (Fixup: the authors' module lists its bare
    /// `bias1`, `bias2` first).
    static func assertTraining(_ model: Sequential, _ check: GoldenChecker, _ tolerance: GoldenTolerance,
                               keysInOrder: Bool = true, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = check.fixture
        let ours = model.stateDictEntries.map { "\($0.key) \($0.shape)" }
        let theirs = fixture.keysAndShapes("state_dict_keys").map { "\($0.key) \($0.shape)" }
        XCTAssertEqual(keysInOrder ? ours : ours.sorted(), keysInOrder ? theirs : theirs.sorted(),
                       "\(fixture.name): state_dict keys and shapes", file: file, line: line)
        let integerKeys = Set(model.stateDictEntries.filter { $0.dtype == .i64 }.map(\.key))
        try model.load(stateDict: stateFile(fixture, prefix: "initial.", integerKeys: integerKeys), strict: true)
        assertState(model, check, prefix: "initial.", .singleLayer, file: file, line: line)
        let sgd = try SGD(parameters: model.parameters, learningRate: 0.1, momentum: 0.9, dampening: 0, weightDecay: 5e-4,
                          nesterov: false)
        let crossEntropy = SoftmaxCrossEntropy()
        for step in 1...(try XCTUnwrap(fixture.config["steps"] as? Int)) {
            let prefix = "step\(step)."
            sgd.zeroGradients()
            let logits = try model.forward(fixture.swiftTensor(prefix + "x"), mode: .train)
            let labels = fixture.labels(prefix + "labels")
            let loss = labels.withUnsafeBufferPointer { crossEntropy.forward(logits: logits, labels: $0).loss }
            check.assertClose([loss], [Float(fixture.scalar(prefix + "loss"))], rtol: tolerance.rtol, atol: tolerance.atol,
                              prefix + "loss", file: file, line: line)
            _ = model.backward(crossEntropy.gradient)
            if fixture.tensorNames.contains(where: { $0.hasPrefix(prefix + "grad.") }) {
                for (name, parameter) in model.namedParameters {
                    check.assertClose(parameter.gradient.array, prefix + "grad." + name, tolerance, file: file, line: line)
                }
            }
            sgd.step()
        }
        assertState(model, check, prefix: "final.", tolerance, file: file, line: line)
        let logits = try model.forward(fixture.swiftTensor("eval.x"), mode: .eval)
        check.assertClose(logits.array, "eval.logits", tolerance, file: file, line: line)
    }

    /// The fixtures' ResNet-8: blocks 1,1,1, channels 4,8,8, stem 4 on (2, 1, 8, 8), 3 classes.
    private func resNet8(norm kind: String, activation: @escaping () -> Layer) throws -> Sequential {
        var rng = RandomGenerator(seed: 0)  // the initial weights are overwritten from the fixture
        return try ResidualNetwork.make(channels: 1, height: 8, width: 8, classes: 3, blocks: [1, 1, 1], widths: [4, 8, 8],
                                        stem: 4, norm: Self.norm(kind), activation: activation, dropout: nil, rng: &rng)
    }

    /// Three steps through 9 convolutions and 3 BatchNorms at batch 2 (8 values per channel in the
    /// last stage): rounding differences compound as in the 3-step CNN, so its tolerance
    /// (``GoldenTolerance/threeStepCNN``).
    func testResNet8BatchNormThreeSGDSteps() throws {
        let fixture = try Fixture.load("resnet8_sgd_3steps_batchnorm")
        let model = try resNet8(norm: "batch") { ReLU() }
        XCTAssertEqual(model.runningStatisticsLayers.count, 9, "stem, 2 per block, 2 projections")
        try Self.assertTraining(model, GoldenChecker(family: .resnetTraining, fixture: fixture), .threeStepCNN)
    }

    func testResNet8GroupNormLeakyReLUThreeSGDSteps() throws {
        let fixture = try Fixture.load("resnet8_sgd_3steps_groupnorm_leaky")
        let model = try resNet8(norm: "group") { LeakyReLU(negativeSlope: 0.2) }
        try Self.assertTraining(model, GoldenChecker(family: .resnetTraining, fixture: fixture), .threeStepCNN)
    }

    /// Keys and shapes, in state_dict order, of the same net for every norm kind: blocks 2,1,
    /// channels 4,6, stem 2 (layer1.0 projects 2 -> 4 at stride 1, layer1.1 is an identity block),
    /// dropout 0.5 (no state). Without a norm the convs carry biases.
    func testStateDictKeysAndShapesOfEveryNormKind() throws {
        let fixture = try Fixture.load("resnet_state_dict_keys")
        for kind in ["batch", "group", "layer", "none"] {
            var rng = RandomGenerator(seed: 1)
            let model = try ResidualNetwork.make(channels: 1, height: 6, width: 6, classes: 3, blocks: [2, 1], widths: [4, 6],
                                                 stem: 2, norm: Self.norm(kind), activation: { ReLU() },
                                                 dropout: try Dropout(p: 0.5, rng: rng.derived("d")), rng: &rng)
            XCTAssertEqual(model.stateDictEntries.map { "\($0.key) \($0.shape)" },
                           fixture.keysAndShapes(kind).map { "\($0.key) \($0.shape)" }, kind)
            XCTAssertEqual(model.namedParameters.map(\.name),
                           model.stateDictEntries.filter { $0.kind == .parameter }.map(\.key), kind)
            guard kind == "none" else { continue }
            // Without norms every conv has a bias; PyTorch's state loads strictly and gives its logits
            // (one eval forward from recorded weights: the single-layer tolerance, 7 convs deep).
            try model.load(stateDict: Self.stateFile(fixture, prefix: "none.state."), strict: true)
            let logits = try model.forward(fixture.swiftTensor("none.x"), mode: .eval)
            GoldenChecker(family: .resnetTraining, fixture: fixture).assertClose(logits.array, "none.logits", .singleLayer)
        }
    }
}
