import XCTest
import NN
import TensorCore

/// Finite-difference checks (``GradientCheck``, tolerances stated there) of the normalization-
/// activation layers, with inputs of non-zero mean and parameters away from their init values.
/// Their max (FRN's TLU) has a kink: each test places the threshold where no finite-difference
/// step crosses it, and checks that both sides of it are exercised.
final class NormActivationGradientTests: XCTestCase {
    func testFilterResponseNorm() throws {
        for (shape, seed) in [(Shape(2, 3, 2, 3), UInt64(1)), (Shape(3, 2, 3, 3), 2)] {
            let layer = FilterResponseNorm(channels: shape.channels)
            TestTensors.randomizeParameters(of: layer, seed: seed, 0.5, 1.5)
            let x = TestTensors.normal(shape, seed: seed + 10, mean: 0.5, std: 1.5)
            let margin = try FrozenKinks.placeThresholds(layer, input: x)
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
            for c in 0..<4 { layer.v!.value.data[c] *= c % 2 == 0 ? 1 : -1 }
            let x = TestTensors.normal(Shape(2, 4, 2, 3), seed: seed + 10, mean: 0.5, std: 1.5)
            try GradientCheck.check(layer, input: x, mode: .train).assertPasses()
        }
    }

    /// Inputs where every `right = x * v + istd` is at least `margin` from its channel's `left`, for
    /// the given left values (eval: from the running variance), so that no step flips the max.
    private func maxMargin(_ layer: EvoNormB0, _ x: Tensor, left: [Float]) -> (margin: Float, rightWins: Int) {
        let channels = x.shape.channels, hw = x.shape.spatial
        var margin = Float.infinity, rightWins = 0
        for plane in 0..<(x.shape.batch * channels) {
            let c = plane % channels
            let values = (0..<hw).map { Double(x[plane * hw + $0]) }
            let mean = values.reduce(0, +) / Double(hw)
            let istd = Float((values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(hw) + Double(layer.eps)).squareRoot())
            for i in 0..<hw {
                let right = x[plane * hw + i] * layer.v!.value[c] + istd
                margin = min(margin, abs(right - left[c]))
                if right > left[c] { rightWins += 1 }
            }
        }
        return (margin, rightWins)
    }

    func testEvoNormB0() throws {
        let shape = Shape(3, 2, 2, 3)
        for (mode, seed) in [(Mode.train, UInt64(10)), (Mode.eval, 10)] {
            let layer = EvoNormB0(channels: 2, eps: 1e-3)
            TestTensors.randomizeParameters(of: layer, seed: seed, 0.5, 1.5)
            layer.v!.value.data[1] = -layer.v!.value.data[1]
            layer.runningVar.assign(Tensor(Shape(2), [0.8, 1.7]))
            let x = TestTensors.normal(shape, seed: seed + 10, mean: 0.3, std: 1.2)
            let left: [Float]
            if mode == .train {
                let moments = (0..<2).map { c -> Double in
                    var values: [Double] = []
                    for n in 0..<3 { for i in 0..<6 { values.append(Double(x[(n * 2 + c) * 6 + i])) } }
                    let mean = values.reduce(0, +) / 18
                    return values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 18
                }
                left = moments.map { Float(($0 + 1e-3).squareRoot()) }
            } else {
                left = [0.8, 1.7].map { ($0 + 1e-3).squareRoot() }
            }
            let (margin, rightWins) = maxMargin(layer, x, left: left)
            // Both sides of the max are exercised, and no value is within a step's reach of the kink
            // (a step of 1e-2 moves right by ~1e-2 * |v| plus the istd's change, and left less).
            XCTAssertGreaterThan(rightWins, 0, "\(mode): right never wins")
            XCTAssertLessThan(rightWins, shape.count, "\(mode): left never wins")
            XCTAssertGreaterThan(margin, 0.1, "\(mode): a value is too close to the max's kink")
            try GradientCheck.check(layer, input: x, mode: mode).assertPasses()
        }
    }

    /// Without the nonlinearity (timm's `apply_act=False`): FRN's normalized affine (no tau, no
    /// kink), EvoNorm-S0's and -B0's affine only, in train and eval mode; B0's running variance is
    /// not touched.
    func testWithoutActivation() throws {
        let x = TestTensors.normal(Shape(2, 3, 2, 3), seed: 30, mean: 0.4, std: 1.3)
        let layers: [NormalizationActivation] = [
            FilterResponseNorm(channels: 3, applyActivation: false),
            try EvoNormS0(channels: 3, groups: 3, applyActivation: false),
            EvoNormB0(channels: 3, applyActivation: false),
        ]
        for (index, layer) in layers.enumerated() {
            XCTAssertFalse(layer.appliesActivation)
            XCTAssertEqual(layer.parameters.map(\.name), ["weight", "bias"], layer.name)
            TestTensors.randomizeParameters(of: layer, seed: 31 + UInt64(index), 0.5, 1.5)
            for mode in [Mode.train, Mode.eval] {
                try GradientCheck.check(layer, input: x, mode: mode).assertPasses()
            }
        }
        XCTAssertEqual((layers[2] as? EvoNormB0)?.runningVar.array, [1, 1, 1], "the affine-only B0 updated running_var")
    }
}
