import NN
import TensorCore
import XCTest

/// Training against PyTorch: the small CNN trained 3 SGD steps end to end (fixtures
/// `sgd_cnn_3steps_*`), and the optimizers on one parameter tensor (`optimizer_*`).
final class PyTorchGoldenTrainingTests: XCTestCase {
    override class func tearDown() {
        print(GoldenErrorRecord.shared.summary([.cnnTraining, .optimizers]))
        super.tearDown()
    }

    // MARK: - The 3-step SGD CNN

    /// The fixtures' `nn.Sequential`, index for index (PyTorch's state_dict names are `INDEX.NAME`):
    /// conv(1->4, 3x3, pad 1) BN(4) ReLU MaxPool(2) conv(4->6, 3x3, pad 1) BN(6) ReLU AvgPool(2)
    /// Flatten Dropout(0) Linear(24, 3). Initial weights are drawn, then overwritten from the fixture.
    private func makeCNN(bnMomentum: BNMomentum, eps: Float) throws -> Sequential {
        var rng = RandomGenerator(seed: 0)
        let layers: [Layer] = [
            Conv2d(1, 4, kernelSize: 3, padding: 1, rng: &rng),
            BatchNorm(4, eps: eps, momentum: bnMomentum),
            ReLU(),
            MaxPool2d(kernelSize: 2),
            Conv2d(4, 6, kernelSize: 3, padding: 1, rng: &rng),
            BatchNorm(6, eps: eps, momentum: bnMomentum),
            ReLU(),
            AvgPool2d(kernelSize: 2),
            Flatten(),
            try Dropout(p: 0, rng: rng.derived("dropout")),
            Linear(24, 3, rng: &rng),
        ]
        return Sequential(layers)
    }

    /// The model's tensors by PyTorch's state_dict names: `INDEX.weight`, `INDEX.bias`,
    /// `INDEX.running_mean`, `INDEX.running_var`.
    private func stateTensors(_ model: Sequential) -> [(name: String, tensor: Tensor)] {
        model.layers.enumerated().flatMap { index, layer -> [(name: String, tensor: Tensor)] in
            var state = layer.parameters.map { (name: "\(index).\($0.name)", tensor: $0.value) }
            if let bn = layer as? RunningStatisticsLayer {
                state += [("\(index).running_mean", bn.runningMean), ("\(index).running_var", bn.runningVar)]
            }
            return state
        }
    }

    /// The gradients by PyTorch's parameter names.
    private func gradients(_ model: Sequential) -> [(name: String, tensor: Tensor)] {
        model.layers.enumerated().flatMap { index, layer in
            layer.parameters.map { (name: "\(index).\($0.name)", tensor: $0.gradient) }
        }
    }

    /// `INDEX.num_batches_tracked` of every BatchNorm.
    private func counters(_ model: Sequential) -> [(name: String, count: Int)] {
        model.layers.enumerated().compactMap { index, layer in
            (layer as? RunningStatisticsLayer).map { (name: "\(index).num_batches_tracked", count: $0.numBatchesTracked) }
        }
    }

    /// Compares every state tensor and counter with the fixture's `PREFIX<name>`; the names must
    /// be exactly the fixture's, so no PyTorch tensor goes unchecked.
    private func assertState(_ model: Sequential, _ check: GoldenChecker, prefix: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        let state = stateTensors(model)
        let recorded = check.fixture.tensorNames.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
        XCTAssertEqual(state.map(\.name).sorted(), recorded.sorted(), "\(check.fixture.name): \(prefix)* names", file: file, line: line)
        for (name, tensor) in state {
            check.assertClose(tensor.array, prefix + name, .threeStepCNN, file: file, line: line)
        }
        for (name, count) in counters(model) {
            XCTAssertEqual(count, Int(check.fixture.scalar(prefix + name)), "\(check.fixture.name): \(prefix)\(name)",
                           file: file, line: line)
        }
    }

    private func assertCNNTraining(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture.load(name)
        let check = GoldenChecker(family: .cnnTraining, fixture: fixture)
        func setting(_ key: String) throws -> Double { try XCTUnwrap(fixture.config[key] as? Double, "\(name): \(key)") }
        XCTAssertEqual(fixture.config["mode"] as? String, "train", file: file, line: line)
        let model = try makeCNN(bnMomentum: fixture.momentum("bn_momentum"),
                                eps: Float(try setting("bn_eps")))
        let initial = stateTensors(model)
        for (tensorName, tensor) in initial { fixture.copy("initial." + tensorName, into: tensor) }
        assertState(model, check, prefix: "initial.", file: file, line: line)

        let sgd = try SGD(parameters: model.parameters, learningRate: Float(try setting("lr")),
                          momentum: Float(try setting("momentum")), dampening: Float(try setting("dampening")),
                          weightDecay: Float(try setting("weight_decay")),
                          nesterov: try XCTUnwrap(fixture.config["nesterov"] as? Bool))
        let crossEntropy = SoftmaxCrossEntropy()
        let steps = try XCTUnwrap(fixture.config["steps"] as? Int)
        for step in 1...steps {
            let prefix = "step\(step)."
            sgd.zeroGradients()
            let x = fixture.swiftTensor(prefix + "x")
            let logits = try model.forward(x, mode: .train)
            let labels = fixture.labels(prefix + "labels")
            let loss = labels.withUnsafeBufferPointer { crossEntropy.forward(logits: logits, labels: $0).loss }
            check.assertClose([loss], [Float(fixture.scalar(prefix + "loss"))], rtol: GoldenTolerance.threeStepCNN.rtol,
                              atol: GoldenTolerance.threeStepCNN.atol, prefix + "loss", file: file, line: line)
            _ = model.backward(crossEntropy.gradient)
            for (gradientName, gradient) in gradients(model) {
                check.assertClose(gradient.array, prefix + "grad." + gradientName, .threeStepCNN, file: file, line: line)
            }
            sgd.step()
            if step < steps { assertState(model, check, prefix: prefix + "state.", file: file, line: line) }
        }
        assertState(model, check, prefix: "final.", file: file, line: line)
    }

    func testCNNThreeStepsSGDMomentum() throws { try assertCNNTraining("sgd_cnn_3steps_momentum") }
    func testCNNThreeStepsSGDNesterov() throws { try assertCNNTraining("sgd_cnn_3steps_nesterov") }
    func testCNNThreeStepsCumulativeBatchNorm() throws { try assertCNNTraining("sgd_cnn_3steps_cumulative_bn") }
    /// bnlab trains with denormals flushed (FloatingPointMode); PyTorch's goldens were made without.
    /// The same tolerances hold in that mode.
    func testCNNThreeStepsWithDenormalsFlushed() throws {
        try FloatingPointMode.withDenormalsFlushed {
            for name in ["sgd_cnn_3steps_momentum", "sgd_cnn_3steps_nesterov", "sgd_cnn_3steps_cumulative_bn"] {
                try assertCNNTraining(name)
            }
        }
    }

    // MARK: - Optimizers on one parameter

    /// Feeds the recorded gradients `stepK.grad` to `optimizer` and compares the parameter after
    /// each step. The update is elementwise float32 arithmetic in both, so single-layer tolerance.
    private func assertOptimizer(_ name: String, file: StaticString = #filePath, line: UInt = #line,
                                 make: (Fixture, [Parameter]) throws -> Optimizer) throws {
        let fixture = try Fixture.load(name)
        let check = GoldenChecker(family: .optimizers, fixture: fixture)
        let parameter = Parameter(name: "param", value: fixture.swiftTensor("initial.param"))
        let optimizer = try make(fixture, [parameter])
        for step in 1...(try XCTUnwrap(fixture.config["steps"] as? Int)) {
            let prefix = "step\(step)."
            fixture.copy(prefix + "grad", into: parameter.gradient)
            optimizer.step()
            check.assertClose(parameter.value.array, prefix + "param", .singleLayer, file: file, line: line)
        }
    }

    private static func setting(_ fixture: Fixture, _ key: String) throws -> Float {
        Float(try XCTUnwrap(fixture.config[key] as? Double, "\(fixture.name): \(key)"))
    }

    private func makeSGD(_ fixture: Fixture, _ parameters: [Parameter]) throws -> Optimizer {
        XCTAssertEqual(fixture.config["optimizer"] as? String, "SGD")
        return try SGD(parameters: parameters, learningRate: Self.setting(fixture, "lr"),
                       momentum: Self.setting(fixture, "momentum"), dampening: Self.setting(fixture, "dampening"),
                       weightDecay: Self.setting(fixture, "weight_decay"),
                       nesterov: try XCTUnwrap(fixture.config["nesterov"] as? Bool))
    }

    /// Adam with L2 decay added to the gradient, or AdamW's decoupled decay, as the config names it.
    private func makeAdam(_ fixture: Fixture, _ parameters: [Parameter]) throws -> Optimizer {
        let kind = try XCTUnwrap(fixture.config["optimizer"] as? String)
        XCTAssertTrue(kind == "Adam" || kind == "AdamW", kind)
        return try Adam(parameters: parameters, learningRate: Self.setting(fixture, "lr"),
                        beta1: Self.setting(fixture, "beta1"), beta2: Self.setting(fixture, "beta2"),
                        eps: Self.setting(fixture, "eps"), weightDecay: Self.setting(fixture, "weight_decay"),
                        decoupledWeightDecay: kind == "AdamW")
    }

    /// Momentum 0.9 with dampening 0.1: the first step's buffer is the gradient itself, undamped.
    func testSGDMomentumWithDampening() throws { try assertOptimizer("optimizer_sgd_momentum_dampening", make: makeSGD) }
    func testSGDNesterov() throws { try assertOptimizer("optimizer_sgd_nesterov", make: makeSGD) }
    func testAdamWithL2WeightDecay() throws { try assertOptimizer("optimizer_adam", make: makeAdam) }
    func testAdamWDecoupledWeightDecay() throws { try assertOptimizer("optimizer_adamw", make: makeAdam) }
}
