import XCTest
import NN
import TensorCore

/// Finite-difference checks (``GradientCheck``, tolerances stated there) of the normalization-
/// activation layers, with inputs of non-zero mean and parameters away from their init values.
/// Their max (FRN's TLU) has a kink: each test places the threshold where no finite-difference
/// step crosses it, and checks that both sides of it are exercised.
final class NormActivationGradientTests: XCTestCase {
    /// Sets `tau[c]` to the midpoint of the widest gap between channel `c`'s pre-threshold values
    /// `y` (among the middle ones, so both branches get values) and returns the smallest distance of
    /// any `y` from its threshold.
    private func placeThresholds(_ layer: FilterResponseNorm, input x: Tensor) throws -> Float {
        layer.tau.value.fill(-.greatestFiniteMagnitude)  // max(y, tau) = y: the response itself
        let y = try layer.clone().forward(x, mode: .train).array
        let channels = x.shape.channels, hw = x.shape.spatial
        var margin = Float.infinity
        for c in 0..<channels {
            var values: [Float] = []
            for n in 0..<x.shape.batch { values += y[((n * channels + c) * hw)..<((n * channels + c + 1) * hw)] }
            values.sort()
            let middle = (values.count / 4)..<(3 * values.count / 4)
            let k = middle.max { values[$0 + 1] - values[$0] < values[$1 + 1] - values[$1] }!
            layer.tau.value.data[c] = (values[k] + values[k + 1]) / 2
            margin = min(margin, (values[k + 1] - values[k]) / 2)
        }
        return margin
    }

    func testFilterResponseNorm() throws {
        for (shape, seed) in [(Shape(2, 3, 2, 3), UInt64(1)), (Shape(3, 2, 3, 3), 2)] {
            let layer = FilterResponseNorm(channels: shape.channels)
            TestTensors.randomizeParameters(of: layer, seed: seed, 0.5, 1.5)
            let x = TestTensors.normal(shape, seed: seed + 10, mean: 0.5, std: 1.5)
            let margin = try placeThresholds(layer, input: x)
            // A step of h = 1e-2 * max(1, |v|) moves y by about that much times weight * r <= ~2:
            // the values stay on their side of tau when the margin is several times larger.
            XCTAssertGreaterThan(margin, 0.05, "thresholds too close to a response value for \(shape)")
            try GradientCheck.check(layer, input: x, mode: .train).assertPasses()
        }
    }

    func testEvoNormS0() throws {
        for (groups, seed) in [(1, UInt64(3)), (2, 4), (4, 5)] {
            let layer = try EvoNormS0(channels: 4, groups: groups)
            // v in [-1.5, 1.5): the sigmoid's slope, negative for some channels.
            TestTensors.randomizeParameters(of: layer, seed: seed, 0.5, 1.5)
            for c in 0..<4 { layer.v.value.data[c] *= c % 2 == 0 ? 1 : -1 }
            let x = TestTensors.normal(Shape(2, 4, 2, 3), seed: seed + 10, mean: 0.5, std: 1.5)
            try GradientCheck.check(layer, input: x, mode: .train).assertPasses()
        }
    }
}
