import NN
import TensorCore
import XCTest

/// One BatchNorm module called at two places, against PyTorch (fixtures `shared_bn_*_3steps`, written
/// by scripts/pytorch_golden.py `shared_bn_cases`): the code of pytorch/pytorch#1738 (one
/// `nn.BatchNorm2d` as `self.bn`, called after both convolutions) and detectron2's `CycleBatchNormList`
/// (shared affine, statistics per call), each trained 3 SGD steps; loss, gradients, parameters and
/// buffers after every step, `num_batches_tracked` exactly, and an eval-mode forward at the end.
///
/// Tolerance: ``GoldenTolerance/threeStepCNN`` (rtol 1e-4, atol 1e-6), the bound of the 3-step CNN
/// golden, for the same reason: rounding differences in the forward change the gradients and the
/// update feeds them back. CycleBatchNormList applies its affine after an affine-free BatchNorm
/// (`bn(x) * w + b`), bnlab in one `x * scale + shift`: another rounding of the same function.
final class PyTorchGoldenSharedBatchNormTests: XCTestCase {
    override class func tearDown() {
        print(GoldenErrorRecord.shared.summary([.sharedBatchNorm]))
        super.tearDown()
    }

    /// The fixtures' model as bnlab's Sequential (the names the fixtures use): conv 0, site 1, ReLU,
    /// MaxPool, conv 4, site 5, ReLU, MaxPool, Flatten, Linear 9.
    private func makeModel(_ sharing: SharedBatchNormSite.Sharing) -> Sequential {
        var rng = RandomGenerator(seed: 0)
        let sites = SharedBatchNormSite.sites(2, numFeatures: 4, sharing: sharing)
        return Sequential([
            Conv2d(1, 4, kernelSize: 3, padding: 1, rng: &rng), sites[0], ReLU(), MaxPool2d(kernelSize: 2),
            Conv2d(4, 4, kernelSize: 3, padding: 1, rng: &rng), sites[1], ReLU(), MaxPool2d(kernelSize: 2),
            Flatten(), Linear(16, 3, rng: &rng),
        ])
    }

    /// The fixture's `PREFIX*` tensors and counters as a state dict file.
    private func stateDict(_ fixture: Fixture, prefix: String, keys: [String]) -> SafeTensorsFile {
        SafeTensorsFile(tensors: Dictionary(uniqueKeysWithValues: keys.map { key in
            if key.hasSuffix("num_batches_tracked") {
                return (key, SafeTensor([Int64(fixture.scalar(prefix + key))], shape: []))
            }
            let (shape, values) = fixture.tensor(prefix + key)
            return (key, SafeTensor(values, shape: shape))
        }))
    }

    /// Every state-dict entry of the model against the fixture's `PREFIX<key>`; the model's keys must be
    /// exactly the fixture's, so the state dict lists the shared tensors once, where PyTorch's twin does.
    private func assertState(_ model: Sequential, _ check: GoldenChecker, prefix: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        let entries = model.stateDictEntries
        let recorded = (check.fixture.tensorNames + check.fixture.scalarNames).filter { $0.hasPrefix(prefix) }
            .map { String($0.dropFirst(prefix.count)) }
        XCTAssertEqual(entries.map(\.key).sorted(), recorded.sorted(), "\(prefix)* keys", file: file, line: line)
        for entry in entries {
            if entry.key.hasSuffix("num_batches_tracked") {
                XCTAssertEqual(entry.value.integers, [Int(check.fixture.scalar(prefix + entry.key))],
                               "\(prefix)\(entry.key)", file: file, line: line)
            } else {
                check.assertClose(entry.value.floats!, prefix + entry.key, .threeStepCNN, file: file, line: line)
            }
        }
    }

    private func assertTraining(_ name: String, _ sharing: SharedBatchNormSite.Sharing) throws {
        let fixture = try Fixture.load(name)
        let check = GoldenChecker(family: .sharedBatchNorm, fixture: fixture)
        let model = makeModel(sharing)
        try model.load(stateDict: stateDict(fixture, prefix: "initial.", keys: model.stateDictEntries.map(\.key)))
        assertState(model, check, prefix: "initial.")
        let sgd = try SGD(parameters: model.parameters, learningRate: 0.1, momentum: 0.9)
        let crossEntropy = SoftmaxCrossEntropy()
        for step in 1...3 {
            let prefix = "step\(step)."
            sgd.zeroGradients()
            let logits = try model.forward(fixture.swiftTensor(prefix + "x"), mode: .train)
            let labels = fixture.labels(prefix + "labels")
            let loss = labels.withUnsafeBufferPointer { crossEntropy.forward(logits: logits, labels: $0).loss }
            check.assertClose([loss], [Float(fixture.scalar(prefix + "loss"))], rtol: GoldenTolerance.threeStepCNN.rtol,
                              atol: GoldenTolerance.threeStepCNN.atol, prefix + "loss")
            _ = model.backward(crossEntropy.gradient)
            for (index, layer) in model.layers.enumerated() {
                for p in layer.parameters {
                    check.assertClose(p.gradient.array, prefix + "grad.\(index).\(p.name)", .threeStepCNN)
                }
            }
            sgd.step()
            if step < 3 { assertState(model, check, prefix: prefix + "state.") }
        }
        assertState(model, check, prefix: "final.")
        let y = try model.forward(fixture.swiftTensor("eval.x"), mode: .eval)
        check.assertClose(y.array, "eval.y", .threeStepCNN)
    }

    func testOneModuleCalledTwiceTrainsAsPyTorch() throws {
        try assertTraining("shared_bn_shared_3steps", .module)
    }

    func testCycleBatchNormListTrainsAsDetectron2() throws {
        try assertTraining("shared_bn_shared_affine_3steps", .affine)
    }
}
