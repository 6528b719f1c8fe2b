import NN
import TensorCore
import XCTest

/// `MovingAverageBatchNorm` and the centred `Conv2d` against the authors' code transcribed into
/// `scripts/pytorch_golden.py` (megvii-model/MABN MABN.py: `BatchNormFunction`, `MABN2d`,
/// `CenConv2d`). MABN's state spans iterations, so each fixture is a sequence of train steps from a
/// recorded state, compared after every step (output, input and parameter gradients, every buffer),
/// then one eval step:
/// - `mabn_warmup_then_average`: from a fresh layer, B = 3, warmup 2: passes 1-3 use the batch's
///   statistics, 4-6 the moving averages of E[x^2] and of the gradient statistic;
/// - `mabn_renormalized`: from iters 998, B = 4: passes 1001 and 1002 clip r at 1/5 and 5.
///
/// Tolerances: `.singleLayer` (rtol 1e-5, atol 1e-6) for y, dx and the buffers, as for BatchNorm:
/// both sides compute the same per-channel means of O(1) values in float32 (here in Double, rounded
/// once), and the moving averages add at most 4 such rows. Parameter gradients: `.parameterGradient`.
final class PyTorchGoldenMABNTests: XCTestCase {
    override class func tearDown() {
        print(GoldenErrorRecord.shared.summary([.mabn]))
        super.tearDown()
    }

    private func assertTrainStepsThenEval(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture.load(name)
        let check = GoldenChecker(family: .mabn, fixture: fixture)
        func setting(_ key: String) throws -> Int { try XCTUnwrap(fixture.config[key] as? Int, "\(name): \(key)") }
        let eps = try XCTUnwrap(fixture.config["eps"] as? Double)
        let momentum = try XCTUnwrap(fixture.config["momentum"] as? Double)
        XCTAssertEqual(Float(momentum), MovingAverageBatchNorm.codeMomentum, "the code's default momentum", file: file, line: line)
        let layer = MovingAverageBatchNorm(try setting("num_features"), eps: Float(eps), bufferSize: try setting("buffer_size"),
                                           warmupIterations: try setting("warmup_iters"))
        for parameter in layer.parameters { fixture.copy("initial." + parameter.name, into: parameter.value) }
        fixture.copy("initial.running_var", into: layer.runningVar)
        fixture.copy("initial.buffer_x2", into: layer.bufferX2)
        fixture.copy("initial.buffer_gz", into: layer.bufferGZ)
        layer.iterations = Int(fixture.tensor("initial.iters").values[0])
        XCTAssertEqual(layer.iterations, try setting("initial_iters"), file: file, line: line)
        for step in 1...(try setting("steps")) {
            let prefix = "step\(step)."
            try check.assertForwardBackward(layer, prefix: prefix, mode: .train, .singleLayer, file: file, line: line)
            check.assertClose(layer.runningVar.array, prefix + "running_var", .singleLayer, file: file, line: line)
            check.assertClose(layer.bufferX2.array, prefix + "buffer_x2", .singleLayer, file: file, line: line)
            check.assertClose(layer.bufferGZ.array, prefix + "buffer_gz", .singleLayer, file: file, line: line)
            XCTAssertEqual(layer.iterations, Int(fixture.scalar(prefix + "iters")), prefix + "iters", file: file, line: line)
        }
        let before = (layer.runningVar.array, layer.bufferX2.array, layer.bufferGZ.array, layer.iterations)
        try check.assertForwardBackward(layer, prefix: "eval.", mode: .eval, .singleLayer, file: file, line: line)
        XCTAssertTrue(before == (layer.runningVar.array, layer.bufferX2.array, layer.bufferGZ.array, layer.iterations),
                      "\(name): eval mode changed the state", file: file, line: line)
    }

    func testWarmupThenMovingAverages() throws {
        try assertTrainStepsThenEval("mabn_warmup_then_average")
    }

    func testRenormalizationClippedAfterIteration1000() throws {
        try assertTrainStepsThenEval("mabn_renormalized")
        // The fixture's claim, seen from this side: after pass 1000 channel 0's r is 1/5, channel 1's 5.
        let layer = MovingAverageBatchNorm(3, bufferSize: 4)
        layer.iterations = 1000
        layer.runningVar.assign(Tensor(Shape(3), [100, 0.001, 1.5]))
        _ = try layer.forward(TestTensors.normal(Shape(2, 3, 3, 3), seed: 1, mean: 0.2, std: 1.5), mode: .train)
        XCTAssertEqual(layer.lastR.array[0], 1 / MovingAverageBatchNorm.rLimit)
        XCTAssertEqual(layer.lastR.array[1], MovingAverageBatchNorm.rLimit)
        XCTAssertTrue(layer.lastR.array[2] > 0.2 && layer.lastR.array[2] < 5)
    }

    /// MABN.py's `CenConv2d(3, 4, 3, padding=1)` (no bias): forward, dx and dweight through the centring.
    func testCentredConv() throws {
        let fixture = try Fixture.load("cenconv2d_3to4_k3_p1")
        var rng = RandomGenerator(seed: 0)  // the initial weights are overwritten below
        let conv = Conv2d(3, 4, kernelSize: 3, padding: 1, bias: false, centredWeights: true, rng: &rng)
        fixture.copy("weight", into: conv.weight.value)
        try GoldenChecker(family: .mabn, fixture: fixture).assertForwardBackward(conv, mode: .train, .singleLayer)
    }
}
