import NN
import TensorCore
import XCTest

/// `ConvCrossIterationBatchNorm` against the authors' `CBatchNorm2d` transcribed into
/// `scripts/pytorch_golden.py` (Howal/Cross-iterationBatchNorm CBN.py), run as mmdet's ConvModule
/// runs it: a bias-free conv 2->3 (k3, p1) and its norm on (2, 2, 4, 4) inputs, six train steps, the
/// conv weight moved by an SGD step after each (the fixture records the weight of every step, which is
/// loaded here, so the compensation sees the same weight changes), then one eval step. Compared after
/// every step: the output, dx (through norm and conv), the conv weight gradient, the norm's parameter
/// gradients, the running statistics and the history length.
/// - `cbn_two_stage`: buffer 2, burn-in 2: passes 1-2 batch statistics (unbiased variance), 3 the batch
///   alone (no history yet), 4-6 with 1-2 compensated past passes;
/// - `cbn_ramp_rho`: two_stage off, buffer 3, burn-in 4, rho 0.5: the buffer grows 0, 1, 2, 3.
///
/// Tolerances: y, dx and the running statistics `rtol 1e-5, atol 1e-5`: the statistics combine up to
/// four compensated means whose Taylor steps are sums over 18 weight entries, all rounded differently
/// in float32 by torch; the conv and norm parameter gradients `.parameterGradient`.
final class PyTorchGoldenCBNTests: XCTestCase {
    override class func tearDown() {
        print(GoldenErrorRecord.shared.summary([.cbn]))
        super.tearDown()
    }

    private let tolerance = GoldenTolerance(rtol: 1e-5, atol: 1e-5)

    private func assertTrainStepsThenEval(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture.load(name)
        let check = GoldenChecker(family: .cbn, fixture: fixture)
        func setting(_ key: String) throws -> Int { try XCTUnwrap(fixture.config[key] as? Int, "\(name): \(key)") }
        let settings = CrossIterationBatchNorm.Settings(
            bufferSize: try setting("buffer_num"), burnin: try setting("burnin"),
            rho: Float(try XCTUnwrap(fixture.config["rho"] as? Double)),
            twoStage: try XCTUnwrap(fixture.config["two_stage"] as? Bool))
        var rng = RandomGenerator(seed: 0)  // the weights are loaded from the fixture
        let block = ConvCrossIterationBatchNorm(
            conv: Conv2d(2, 3, kernelSize: 3, padding: 1, bias: false, rng: &rng),
            norm: CrossIterationBatchNorm(3, eps: Float(try XCTUnwrap(fixture.config["eps"] as? Double)),
                                          momentum: Float(try XCTUnwrap(fixture.config["momentum"] as? Double)),
                                          settings: settings))
        let norm = block.norm
        fixture.copy("initial.weight", into: norm.weight.value)
        fixture.copy("initial.bias", into: norm.bias.value)
        fixture.copy("initial.running_mean", into: norm.runningMean)
        fixture.copy("initial.running_var", into: norm.runningVar)
        for step in 1...(try setting("steps")) {
            let prefix = "step\(step)."
            fixture.copy(prefix + "conv_weight", into: block.conv.weight.value)
            block.zeroGradients()
            let y = try block.forward(fixture.swiftTensor(prefix + "x"), mode: .train)
            check.assertClose(y.array, prefix + "y", tolerance, file: file, line: line)
            let dx = block.backward(fixture.swiftTensor(prefix + "dy"))
            check.assertClose(dx.array, prefix + "dx", tolerance, file: file, line: line)
            check.assertClose(block.conv.weight.gradient.array, prefix + "dconv_weight", .parameterGradient, file: file, line: line)
            check.assertClose(norm.weight.gradient.array, prefix + "dweight", .parameterGradient, file: file, line: line)
            check.assertClose(norm.bias.gradient.array, prefix + "dbias", .parameterGradient, file: file, line: line)
            check.assertClose(norm.runningMean.array, prefix + "running_mean", tolerance, file: file, line: line)
            check.assertClose(norm.runningVar.array, prefix + "running_var", tolerance, file: file, line: line)
            XCTAssertEqual(norm.historyCount, Int(fixture.scalar(prefix + "history")), prefix + "history", file: file, line: line)
        }
        let statistics = (norm.runningMean.array, norm.runningVar.array, norm.historyCount)
        fixture.copy("eval.conv_weight", into: block.conv.weight.value)
        block.zeroGradients()
        let y = try block.forward(fixture.swiftTensor("eval.x"), mode: .eval)
        check.assertClose(y.array, "eval.y", tolerance, file: file, line: line)
        check.assertClose(block.backward(fixture.swiftTensor("eval.dy")).array, "eval.dx", tolerance, file: file, line: line)
        check.assertClose(block.conv.weight.gradient.array, "eval.dweight", .parameterGradient, file: file, line: line)
        check.assertClose(norm.weight.gradient.array, "eval.dweight_norm", .parameterGradient, file: file, line: line)
        check.assertClose(norm.bias.gradient.array, "eval.dbias_norm", .parameterGradient, file: file, line: line)
        XCTAssertTrue(statistics == (norm.runningMean.array, norm.runningVar.array, norm.historyCount),
                      "\(name): eval mode changed the state", file: file, line: line)
    }

    func testTwoStageBurnInThenCompensation() throws { try assertTrainStepsThenEval("cbn_two_stage") }
    func testLinearRampWithRho() throws { try assertTrainStepsThenEval("cbn_ramp_rho") }
}
