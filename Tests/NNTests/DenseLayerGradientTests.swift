import XCTest
import NN
import TensorCore

/// Finite-difference checks (``GradientCheck``, tolerances stated there) of the layers
/// without normalization: Linear, Conv2d, the pools, Flatten, ReLU, Dropout.
/// Spatial inputs have `H != W` so that a swapped height and width cannot pass.
final class DenseLayerGradientTests: XCTestCase {
    /// Piecewise-linear layers whose forward copies input values (max pooling, ReLU, a
    /// mask) round nothing, so a small step costs no accuracy; 1e-3 keeps every step
    /// far inside the gaps that the inputs leave around kinks and ties.
    private let piecewiseStep: Float = 1e-3

    func testLinearWithBias() throws {
        var rng = RandomGenerator(seed: 1)
        let layer = Linear(5, 3, rng: &rng)
        try GradientCheck.check(layer, input: TestTensors.normal(Shape(4, 5), seed: 2), mode: .train).assertPasses()
    }

    func testLinearWithoutBias() throws {
        var rng = RandomGenerator(seed: 3)
        let layer = Linear(5, 3, bias: false, rng: &rng)
        XCTAssertEqual(layer.parameters.count, 1)
        try GradientCheck.check(layer, input: TestTensors.normal(Shape(4, 5), seed: 4), mode: .train).assertPasses()
    }

    func testConv2dConfigurations() throws {
        // (in, out, kernel, stride, padding, bias): kernels 1/3/5, strides 1/2, paddings 0/1/2.
        let configurations: [(Int, Int, Int, Int, Int, Bool)] = [
            (2, 3, 1, 1, 0, true),
            (2, 3, 3, 1, 1, true),
            (2, 2, 3, 2, 1, false),
            (2, 3, 3, 2, 0, true),
            (1, 2, 5, 1, 2, true),
            (2, 2, 5, 2, 2, false),
            (2, 2, 3, 1, 2, false),
        ]
        for (index, (c, o, k, s, p, bias)) in configurations.enumerated() {
            var rng = RandomGenerator(seed: 100 + UInt64(index))
            let layer = Conv2d(c, o, kernelSize: k, stride: s, padding: p, bias: bias, rng: &rng)
            let x = TestTensors.normal(Shape(2, c, 5, 6), seed: 200 + UInt64(index))
            try GradientCheck.check(layer, input: x, mode: .train).assertPasses()
        }
    }

    func testMaxPoolKernel2() throws {
        // Values 0.05 apart (no ties); |v| <= 2, so steps are <= 2e-3, far below the 0.025
        // that could change a window's winner. W = 5 leaves a column outside every window.
        let x = TestTensors.distinct(Shape(2, 2, 4, 5), seed: 5, spacing: 0.05)
        try GradientCheck.check(MaxPool2d(kernelSize: 2), input: x, mode: .train,
                                relativeStep: piecewiseStep).assertPasses()
    }

    func testMaxPoolKernel3Stride2() throws {
        // Overlapping windows: one input can win two windows and must receive both gradients.
        // |v| <= 4.2: steps <= 4.2e-3 < 0.025.
        let x = TestTensors.distinct(Shape(2, 2, 7, 6), seed: 6, spacing: 0.05)
        try GradientCheck.check(MaxPool2d(kernelSize: 3, stride: 2), input: x, mode: .train,
                                relativeStep: piecewiseStep).assertPasses()
    }

    func testAvgPool() throws {
        let x = TestTensors.normal(Shape(2, 2, 4, 5), seed: 7)
        try GradientCheck.check(AvgPool2d(kernelSize: 2), input: x, mode: .train).assertPasses()
        let overlapping = TestTensors.normal(Shape(2, 2, 7, 6), seed: 8)
        try GradientCheck.check(AvgPool2d(kernelSize: 3, stride: 2), input: overlapping, mode: .train).assertPasses()
    }

    func testGlobalAvgPool() throws {
        let x = TestTensors.normal(Shape(2, 3, 3, 4), seed: 9)
        try GradientCheck.check(GlobalAvgPool2d(), input: x, mode: .train).assertPasses()
    }

    func testFlatten() throws {
        let x = TestTensors.normal(Shape(2, 3, 2, 3), seed: 10)
        try GradientCheck.check(Flatten(), input: x, mode: .train).assertPasses()
    }

    func testReLU() throws {
        // |x| >= 0.1 and steps <= 1.1e-2: no step crosses the kink at 0.
        let x = TestTensors.awayFromZero(Shape(3, 2, 2, 3), seed: 12, margin: 0.1)
        try GradientCheck.check(ReLU(), input: x, mode: .train).assertPasses()
    }

    func testDropoutWithFixedMask() throws {
        let p: Float = 0.25
        let x = TestTensors.normal(Shape(4, 6), seed: 13)
        var rng = RandomGenerator(seed: 14)
        let mask = (0..<x.count).map { _ in rng.nextFloat() < p ? 0 : 1 / (1 - p) }
        XCTAssertTrue(mask.contains(0) && mask.contains(1 / (1 - p)), "the mask must drop some units and keep some")
        let layer = try Dropout(p: p, rng: RandomGenerator(seed: 15))
        try GradientCheck.check(layer, input: x, mode: .train,
                                forward: { ($0 as! Dropout).forward($1, fixedMask: mask) },
                                relativeStep: piecewiseStep).assertPasses()
    }

    func testDropoutTrainModeWithClonedGenerator() throws {
        // Each evaluation runs on a clone, whose copied generator draws the same mask as the
        // analytic pass; a different mask per evaluation would make the check fail.
        let layer = try Dropout(p: 0.5, rng: RandomGenerator(seed: 16))
        let x = TestTensors.normal(Shape(3, 5), seed: 17)
        try GradientCheck.check(layer, input: x, mode: .train, relativeStep: piecewiseStep).assertPasses()
    }

    func testDropoutEvalModeIsIdentityGradient() throws {
        let layer = try Dropout(p: 0.5, rng: RandomGenerator(seed: 18))
        try GradientCheck.check(layer, input: TestTensors.normal(Shape(3, 5), seed: 19), mode: .eval).assertPasses()
    }
}
