import XCTest
import NN
import TensorCore

/// What Batch Renormalization's backward claims, checked by finite differences
/// (``GradientCheck``, tolerances stated there).
///
/// The layer treats `r = clip(sigma_B / sigma)` and `d = clip((mean_B - running_mean) / sigma)`
/// as constants (stop-gradient, as in the paper). A finite difference of the layer itself
/// sees how `r` and `d` move with `x`, so the two agree only where that motion is zero:
/// 1. with `rMax = 1`, `dMax = 0` (r = 1, d = 0 always) the layer IS BatchNorm;
/// 2. against a reference function that holds `r` and `d` fixed, the analytic gradient
///    matches on every channel;
/// 3. against the layer itself it matches on channels where both `r` and `d` sit on a
///    clipping limit (locally constant), and measurably does NOT on a channel where
///    neither clips: that difference is the stop-gradient.
/// Shape legend: `x (N, C, H, W)`, `m = N*H*W` values per channel.
final class BatchRenormGradientTests: XCTestCase {
    private let shape = Shape(4, 3, 2, 2)
    private let limits = BatchRenorm.Limits(rMax: 1.5, dMax: 0.5)

    func testWithNoClippingRoomItIsBatchNorm() throws {
        let renorm = BatchRenorm(3, limits: BatchRenorm.Limits(rMax: 1, dMax: 0))
        let plain = BatchNorm(3)
        for layer in [renorm, plain] as [RunningStatisticsLayer] {
            TestTensors.randomizeParameters(of: layer, seed: 1, 0.5, 1.5)
            layer.restoreRunningStatistics(RunningStatistics(mean: [0.3, -0.2, 1], variance: [0.5, 2, 1.5],
                                                             batchesTracked: 0))
        }
        let pristine = renorm.clone()
        let x = TestTensors.normal(shape, seed: 2, mean: 0.5)
        let dy = TestTensors.normal(shape, seed: 3)
        // The same Float operations in the same order; r = 1 and d = 0 enter only as exact
        // multiplications by 1 and additions of 0, so the results are bit-identical.
        XCTAssertEqual(try renorm.forward(x, mode: .train).array, try plain.forward(x, mode: .train).array)
        XCTAssertEqual(renorm.lastR.array, [1, 1, 1])
        XCTAssertEqual(renorm.lastD.array, [0, 0, 0])
        XCTAssertEqual(renorm.backward(dy).array, plain.backward(dy).array)
        XCTAssertEqual(renorm.weight.gradient.array, plain.weight.gradient.array)
        XCTAssertEqual(renorm.bias.gradient.array, plain.bias.gradient.array)
        XCTAssertEqual(renorm.snapshotRunningStatistics(), plain.snapshotRunningStatistics())
        // And r, d constant is then exact, so the full finite difference matches.
        try GradientCheck.check(pristine, input: x, mode: .train).assertPasses()
    }

    func testFrozenRAndDMatchTheAnalyticGradientOnEveryChannel() throws {
        let (layer, x) = clippingSetUp()
        let dy = TestTensors.normal(shape, seed: 4)
        let output = try layer.forward(x, mode: .train)
        XCTAssertEqual(output.shape, shape)
        // Channel 0 clips r low and d high, channel 1 r high and d low, channel 2 neither.
        XCTAssertEqual(layer.lastR[0], Float(1 / 1.5), accuracy: 1e-7)
        XCTAssertEqual(layer.lastD[0], 0.5)
        XCTAssertEqual(layer.lastR[1], 1.5)
        XCTAssertEqual(layer.lastD[1], -0.5)
        XCTAssertTrue(layer.lastR[2] > 0.8 && layer.lastR[2] < 1 && layer.lastD[2] > 0.1 && layer.lastD[2] < 0.3,
                      "channel 2 must not clip: r \(layer.lastR[2]), d \(layer.lastD[2])")

        layer.zeroGradients()
        let dx = layer.backward(dy).array.map(Double.init)
        let r = layer.lastR.array.map(Double.init), d = layer.lastD.array.map(Double.init)
        let xs = x.copy(), weight = layer.weight.value.copy(), bias = layer.bias.value.copy()
        let loss = { Self.frozenRenormLoss(x: xs, weight: weight, bias: bias, r: r, d: d,
                                           eps: Double(layer.eps), dy: dy) }
        let checks = [
            GradientCheck.compare("dL/dx", analytic: dx, numeric: GradientCheck.numericGradient(of: xs, loss: loss)),
            GradientCheck.compare("dL/dweight", analytic: layer.weight.gradient.array.map(Double.init),
                                  numeric: GradientCheck.numericGradient(of: weight, loss: loss)),
            GradientCheck.compare("dL/dbias", analytic: layer.bias.gradient.array.map(Double.init),
                                  numeric: GradientCheck.numericGradient(of: bias, loss: loss)),
        ]
        GradientCheck.Report(comparisons: checks).assertPasses()
    }

    func testFullDerivativeMatchesOnlyWhereRAndDAreClipped() throws {
        let (layer, x) = clippingSetUp()
        let report = try GradientCheck.check(layer, input: x, mode: .train)
        XCTAssertEqual(report.comparisons.count, 3)
        // Parameters do not enter r or d: their gradients are the full derivatives.
        GradientCheck.Report(comparisons: Array(report.comparisons.dropFirst())).assertPasses()
        let dx = report.comparisons[0]
        func channel(_ c: Int) -> GradientCheck.Comparison {
            GradientCheck.compare("dL/dx channel \(c)", analytic: Self.channelValues(dx.analytic, c, shape),
                                  numeric: Self.channelValues(dx.numeric, c, shape))
        }
        GradientCheck.Report(comparisons: [channel(0), channel(1)]).assertPasses()
        // Unclipped: the layer's derivative leaves out dr/dx and dd/dx, which for m = 16
        // values change the gradient by far more than the 1e-2 tolerance.
        let unclipped = channel(2)
        XCTAssertGreaterThan(unclipped.relativeNormError, 5e-2,
                             "on an unclipped channel the stop-gradient must be visible")
    }

    func testEvalMode() throws {
        let (layer, _) = clippingSetUp()
        try GradientCheck.check(layer, input: TestTensors.normal(shape, seed: 5), mode: .eval).assertPasses()
    }

    // MARK: - Helpers

    /// A layer with limits (1.5, 0.5) and an input whose batch statistics, against running
    /// statistics set from them, clip channels 0 and 1 by a factor >= 4 beyond their limits
    /// (so no finite-difference step unclips them) and leave channel 2 well inside.
    private func clippingSetUp() -> (BatchRenorm, Tensor) {
        let layer = BatchRenorm(3, limits: limits)
        TestTensors.randomizeParameters(of: layer, seed: 6, 0.5, 1.5)
        let x = TestTensors.normal(shape, seed: 7, mean: 0.5, std: 1.2)
        let eps = Double(layer.eps)
        for c in 0..<3 {
            let values = Self.channelValues(x.array.map(Double.init), c, shape)
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
            let sigmaB = (variance + eps).squareRoot()
            // sigma = sigma_B / ratio, running_mean = mean_B - offset * sigma.
            let (ratio, offset): (Double, Double) = [(0.1, 2.0), (10, -10), (0.9, 0.2)][c]
            let sigma = sigmaB / ratio
            layer.runningVar.data[c] = Float(sigma * sigma - eps)
            layer.runningMean.data[c] = Float(mean - offset * sigma)
        }
        return (layer, x)
    }

    /// `L = sum dy * (weight * ((x - mean_B) / sqrt(var_B + eps) * r + d) + bias)` in Double,
    /// with `r`, `d` held fixed and biased `var_B`.
    private static func frozenRenormLoss(x: Tensor, weight: Tensor, bias: Tensor, r: [Double], d: [Double],
                                         eps: Double, dy: Tensor) -> Double {
        let channels = x.shape.channels, hw = x.shape.spatial
        let xs = x.array.map(Double.init)
        var loss = 0.0
        for c in 0..<channels {
            let values = channelValues(xs, c, x.shape)
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
            let invStd = 1 / (variance + eps).squareRoot()
            for n in 0..<x.shape.batch {
                for i in 0..<hw {
                    let index = (n * channels + c) * hw + i
                    let y = Double(weight[c]) * ((xs[index] - mean) * invStd * r[c] + d[c]) + Double(bias[c])
                    loss += y * Double(dy[index])
                }
            }
        }
        return loss
    }

    /// The values of channel `c` of NCHW data, in sample order.
    private static func channelValues(_ values: [Double], _ c: Int, _ shape: Shape) -> [Double] {
        let channels = shape.channels, hw = shape.spatial
        var result: [Double] = []
        for n in 0..<shape.batch {
            let start = (n * channels + c) * hw
            result += values[start..<(start + hw)]
        }
        return result
    }
}
