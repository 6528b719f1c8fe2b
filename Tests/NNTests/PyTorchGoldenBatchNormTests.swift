import NN
import TensorCore
import XCTest

/// `BatchNorm` against `nn.BatchNorm1d` / `nn.BatchNorm2d` (fixtures `batchnorm*`): three train
/// steps with the running statistics and `num_batches_tracked` after each, then one eval step;
/// `track_running_stats=False` in eval mode; batch 1 in train mode (works for 2d, throws for 1d).
final class PyTorchGoldenBatchNormTests: XCTestCase {
    override class func tearDown() {
        print(GoldenErrorRecord.shared.summary([.batchNorm]))
        super.tearDown()
    }

    /// Runs the train steps and the eval step of `name`; each step's `num_batches_tracked` must
    /// equal PyTorch's. `dx` is the tolerance of the train-mode input gradient.
    private func assertTrainStepsThenEval(_ name: String, dx: GoldenTolerance = .singleLayer,
                                          file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture.load(name)
        let eps = try XCTUnwrap(fixture.config["eps"] as? Double)
        let bn = BatchNorm(try XCTUnwrap(fixture.config["num_features"] as? Int), eps: Float(eps),
                           momentum: fixture.momentum())
        XCTAssertEqual(bn.numBatchesTracked, Int(fixture.scalar("initial.num_batches_tracked")), name, file: file, line: line)
        try GoldenChecker(family: .batchNorm, fixture: fixture).assertTrainStepsThenEval(
            bn, steps: try XCTUnwrap(fixture.config["steps"] as? Int), dx: dx, file: file, line: line
        ) { prefix in
            XCTAssertEqual(bn.numBatchesTracked, Int(fixture.scalar(prefix + "num_batches_tracked")),
                           "\(name) \(prefix)num_batches_tracked", file: file, line: line)
        }
    }

    /// BatchNorm1d at N = 2: `dx` is proportional to `eps / (var + eps)` (README), at most 6.6e-4
    /// here, left over after terms of size `|dy| * |weight| * invStd` (up to 7.4 here) cancel, so
    /// its relative error is meaningless. Absolute bound: PyTorch's own values differ from a
    /// float64 recomputation by up to 3.9e-7, so 1e-6; `dx = 0` would still fail (every step's
    /// largest |dx| is above 3.7e-6).
    private static let batchNorm1dPairDx = GoldenTolerance.absolute(1e-6)

    func testBatchNorm1dBatch2Momentum() throws {
        try assertTrainStepsThenEval("batchnorm1d_n2_momentum0p1", dx: Self.batchNorm1dPairDx)
    }

    func testBatchNorm1dBatch2Cumulative() throws {
        try assertTrainStepsThenEval("batchnorm1d_n2_cumulative", dx: Self.batchNorm1dPairDx)
    }

    func testBatchNorm1dBatch5Momentum() throws { try assertTrainStepsThenEval("batchnorm1d_n5_momentum0p1") }
    func testBatchNorm1dBatch5Cumulative() throws { try assertTrainStepsThenEval("batchnorm1d_n5_cumulative") }
    func testBatchNorm2dBatch2Momentum() throws { try assertTrainStepsThenEval("batchnorm2d_n2_momentum0p1") }
    func testBatchNorm2dBatch2Cumulative() throws { try assertTrainStepsThenEval("batchnorm2d_n2_cumulative") }
    func testBatchNorm2dBatch5Momentum() throws { try assertTrainStepsThenEval("batchnorm2d_n5_momentum0p1") }
    func testBatchNorm2dBatch5Cumulative() throws { try assertTrainStepsThenEval("batchnorm2d_n5_cumulative") }

    /// Batch 1 on (1, 3, 4, 4) trains: each channel's statistics are over the 16 pixels of the one image.
    func testBatchNorm2dBatch1TrainsOnOneImage() throws { try assertTrainStepsThenEval("batchnorm2d_n1_momentum0p1") }

    /// `track_running_stats=False` normalizes with the batch statistics even in eval mode and
    /// keeps no running state.
    private func assertUntrackedEval(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture.load(name)
        let check = GoldenChecker(family: .batchNorm, fixture: fixture)
        let features = try XCTUnwrap(fixture.config["num_features"] as? Int)
        let eps = try XCTUnwrap(fixture.config["eps"] as? Double)
        XCTAssertEqual(fixture.config["track_running_stats"] as? Bool, false, name, file: file, line: line)
        let bn = BatchNorm(features, eps: Float(eps), trackRunningStats: false)
        fixture.copy("weight", into: bn.weight.value)
        fixture.copy("bias", into: bn.bias.value)
        let initial = bn.snapshotRunningStatistics()
        try check.assertForwardBackward(bn, mode: .eval, .singleLayer, file: file, line: line)
        XCTAssertEqual(bn.snapshotRunningStatistics(), initial, "\(name): untracked BatchNorm changed its running state",
                       file: file, line: line)
    }

    func testBatchNorm1dUntrackedEvalUsesBatchStatistics() throws { try assertUntrackedEval("batchnorm1d_untracked_eval") }
    func testBatchNorm2dUntrackedEvalUsesBatchStatistics() throws { try assertUntrackedEval("batchnorm2d_untracked_eval") }

    /// BatchNorm1d on (1, 3) in train mode throws with PyTorch's message, leaves the counter and the
    /// running statistics alone (PyTorch increments `num_batches_tracked` before raising; the README
    /// says not to copy that), and eval mode works.
    func testBatchNorm1dBatch1TrainThrowsPyTorchsErrorAndEvalWorks() throws {
        let fixture = try Fixture.load("batchnorm1d_batch1_train_error")
        let check = GoldenChecker(family: .batchNorm, fixture: fixture)
        let pytorchMessage = fixture.text("error")
        // PyTorch: "Expected more than 1 value per channel when training, got input size torch.Size([1, 3])";
        // the key phrase is the part before the shape, which is printed in each framework's own notation.
        let keyPhrase = try XCTUnwrap(pytorchMessage.components(separatedBy: ", got input size").first)
        XCTAssertNotEqual(keyPhrase, pytorchMessage, "the fixture's message no longer names the input size")
        XCTAssertEqual(keyPhrase, "Expected more than 1 value per channel when training")

        let bn = BatchNorm(try XCTUnwrap(fixture.config["num_features"] as? Int))
        let initial = bn.snapshotRunningStatistics()
        let x = fixture.swiftTensor("x")
        XCTAssertThrowsError(try bn.forward(x, mode: .train)) { error in
            guard let layerError = error as? LayerError else { return XCTFail("expected a LayerError, got \(error)") }
            XCTAssertTrue(layerError.message.contains(keyPhrase), "Swift: '\(layerError.message)', PyTorch: '\(pytorchMessage)'")
            XCTAssertTrue(layerError.message.contains("got input size (1, 3)"), layerError.message)
        }
        XCTAssertEqual(bn.snapshotRunningStatistics(), initial, "a refused train step must not touch the running state")
        let y = try bn.forward(x, mode: .eval)
        check.assertClose(y.array, "eval.y", .singleLayer)
    }
}
