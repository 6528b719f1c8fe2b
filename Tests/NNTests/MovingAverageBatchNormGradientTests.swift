import XCTest
import NN
import TensorCore

/// Finite-difference checks (``GradientCheck``, tolerances stated there) of Moving Average
/// BatchNorm where MABN.py's backward is the true gradient of its forward, and the proof that it is
/// not once the moving averages act (the PyTorch golden, `PyTorchGoldenMABNTests`, holds those
/// passes to the authors' code instead); and of the centred conv (`CenConv2d`).
///
/// The code's backward equals the gradient of `y = weight * x / sqrt(x2 + eps) + bias` (x2 the
/// batch's E[x^2]) while `var = x2` and `r = 1`: passes `t <= max(B, warmup - 1)`, and every pass
/// up to `max(1000, warmup)` when `B = 1` (the moving average of one row is the batch itself).
/// Every perturbed forward runs on a clone of the layer as it was, so all see the same pass `t`.
final class MovingAverageBatchNormGradientTests: XCTestCase {
    private func layer(bufferSize: Int, warmup: Int, iterations: Int, seed: UInt64) -> MovingAverageBatchNorm {
        let layer = MovingAverageBatchNorm(3, bufferSize: bufferSize, warmupIterations: warmup)
        TestTensors.randomizeParameters(of: layer, seed: seed, 0.5, 1.5)
        layer.iterations = iterations
        layer.bufferX2.assign(TestTensors.uniform(layer.bufferX2.shape, seed: seed + 1, 0.5, 3))
        layer.bufferGZ.assign(TestTensors.normal(layer.bufferGZ.shape, seed: seed + 2, std: 0.3))
        layer.runningVar.assign(TestTensors.uniform(layer.runningVar.shape, seed: seed + 3, 0.5, 2))
        return layer
    }

    private let x = TestTensors.normal(Shape(3, 3, 2, 2), seed: 7, mean: 0.4, std: 1.3)

    func testFirstPassesUseTheBatchAndTheTrueGradient() throws {
        // B = 3, warmup 2: passes 1, 2, 3 normalize with their own batch.
        for iterations in [0, 2] {
            let mabn = layer(bufferSize: 3, warmup: 2, iterations: iterations, seed: 1)
            try GradientCheck.check(mabn, input: x, mode: .train).assertPasses()
        }
    }

    func testBufferOfOneIsTheTrueGradientUntilRenormalization() throws {
        // B = 1: var = x2 and mean_gz = gz at every pass; r = 1 up to pass 1000.
        for iterations in [5, 999] {
            let mabn = layer(bufferSize: 1, warmup: 0, iterations: iterations, seed: 2)
            try GradientCheck.check(mabn, input: x, mode: .train).assertPasses()
        }
    }

    func testMovingAveragesAreNotTheTrueGradient() throws {
        // Pass 6 of B = 3: var and mean_gz average over earlier rows, which the code's backward
        // treats as constants and as the current statistic respectively: the check must fail.
        let mabn = layer(bufferSize: 3, warmup: 2, iterations: 5, seed: 3)
        let report = try GradientCheck.check(mabn, input: x, mode: .train)
        // dx differs (mean_gz and var are averages); dweight and dbias stay the true ones.
        let errors = report.comparisons.map(\.relativeNormError)
        XCTAssertEqual(errors.count, 3)
        XCTAssertGreaterThan(errors[0], 0.05, "the moving-average dx matched finite differences")
        XCTAssertLessThan(errors[1...].max()!, 1e-2, "dweight, dbias: \(errors)")
    }

    func testEvalIsTheTrueGradient() throws {
        let mabn = layer(bufferSize: 3, warmup: 2, iterations: 1200, seed: 4)
        let before = mabn.clone()
        try GradientCheck.check(mabn, input: x, mode: .eval).assertPasses()
        XCTAssertEqual(mabn.iterations, before.iterations, "eval mode counted a pass")
        XCTAssertEqual(mabn.runningVar.array, before.runningVar.array, "eval mode changed running_var")
    }

    func testCentredConv() throws {
        var rng = RandomGenerator(seed: 5)
        let conv = Conv2d(2, 3, kernelSize: 3, padding: 1, bias: false, centredWeights: true, rng: &rng)
        // A common offset per filter is removed by the centring: its gradient must be orthogonal to it.
        let x = TestTensors.normal(Shape(2, 2, 4, 4), seed: 6)
        try GradientCheck.check(conv, input: x, mode: .train).assertPasses()
        conv.zeroGradients()
        let y = try conv.forward(x, mode: .train)
        _ = conv.backward(TestTensors.normal(y.shape, seed: 7))
        let perFilter = 2 * 3 * 3
        for f in 0..<3 {
            let sum = conv.weight.gradient.array[(f * perFilter)..<((f + 1) * perFilter)].reduce(0, +)
            XCTAssertEqual(sum, 0, accuracy: 1e-4, "filter \(f): the centred gradient sums to 0")
        }
    }
}
