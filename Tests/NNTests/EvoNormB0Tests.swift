import XCTest
import NN
import TensorCore

/// EvoNorm-B0's modes with numbers: train mode normalizes with the batch variance and updates the
/// running one by timm's formula, eval mode reads the running variance and leaves it alone; a clone
/// owns its own running variance.
final class EvoNormB0Tests: XCTestCase {
    private func layer() -> EvoNormB0 {
        let layer = EvoNormB0(channels: 2, eps: 1e-3, momentum: 0.25)
        TestTensors.randomizeParameters(of: layer, seed: 1, 0.5, 1.5)
        layer.runningVar.assign(Tensor(Shape(2), [0.5, 3]))
        return layer
    }

    /// `y = x / max(sqrt(var_c + eps), v x + istd) * weight + bias` in Double, `var_c` given.
    private func expected(_ layer: EvoNormB0, _ x: Tensor, variance: [Double]) -> [Double] {
        let channels = x.shape.channels, hw = x.shape.spatial, eps = Double(layer.eps)
        var y: [Double] = []
        for plane in 0..<(x.shape.batch * channels) {
            let c = plane % channels
            let values = (0..<hw).map { Double(x[plane * hw + $0]) }
            let mean = values.reduce(0, +) / Double(hw)
            let istd = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(hw) + eps).squareRoot()
            for value in values {
                let d = max((variance[c] + eps).squareRoot(), value * Double(layer.v!.value[c]) + istd)
                y.append(value / d * Double(layer.weight.value[c]) + Double(layer.bias.value[c]))
            }
        }
        return y
    }

    func testTrainUsesTheBatchVarianceAndUpdatesTheRunningOne() throws {
        let layer = layer()
        let x = TestTensors.normal(Shape(3, 2, 2, 2), seed: 2, mean: 0.5, std: 2)
        var variance: [Double] = [], unbiased: [Double] = []
        for c in 0..<2 {
            var values: [Double] = []
            for n in 0..<3 { for i in 0..<4 { values.append(Double(x[(n * 2 + c) * 4 + i])) } }
            let mean = values.reduce(0, +) / 12
            variance.append(values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 12)
            unbiased.append(variance[c] * 12 / 11)
        }
        let y = try layer.forward(x, mode: .train).array
        // Float arithmetic on O(1) values against Double: a few ulp, below 1e-5.
        for (a, e) in zip(y, expected(layer, x, variance: variance)) { XCTAssertEqual(Double(a), e, accuracy: 1e-5) }
        // running = (1 - 0.25) * running + 0.25 * unbiased batch variance (PyTorch's momentum convention).
        for (c, before) in [0.5, 3.0].enumerated() {
            XCTAssertEqual(Double(layer.runningVar[c]), 0.75 * before + 0.25 * unbiased[c], accuracy: 1e-5)
        }
    }

    func testEvalUsesTheRunningVarianceAndLeavesIt() throws {
        let layer = layer()
        let x = TestTensors.normal(Shape(2, 2, 3, 2), seed: 3, mean: -0.3, std: 1.5)
        let y = try layer.forward(x, mode: .eval).array
        for (a, e) in zip(y, expected(layer, x, variance: [0.5, 3])) { XCTAssertEqual(Double(a), e, accuracy: 1e-5) }
        XCTAssertEqual(layer.runningVar.array, [0.5, 3], "eval mode changed the running variance")
        // Eval mode does not look across the batch.
        let first = Tensor(Shape(1, 2, 3, 2), Array(x.array[0..<12]))
        XCTAssertEqual(try layer.forward(first, mode: .eval).array, Array(y[0..<12]))
    }

    func testOneValuePerChannelInTrainModeIsRefused() {
        let layer = layer()
        XCTAssertThrowsError(try layer.forward(TestTensors.normal(Shape(1, 2, 1, 1), seed: 4), mode: .train)) { error in
            XCTAssertEqual((error as? LayerError)?.message,
                           "Expected more than 1 value per channel when training, got input size (1, 2, 1, 1)")
        }
        XCTAssertEqual(layer.runningVar.array, [0.5, 3], "a refused forward changed the running variance")
        XCTAssertNoThrow(try layer.forward(TestTensors.normal(Shape(1, 2, 1, 1), seed: 4), mode: .eval))
    }

    func testCloneOwnsItsRunningVarianceAndTheStateDictHasTimmsKeys() throws {
        let original = layer()
        let copy = original.clone()
        _ = try copy.forward(TestTensors.normal(Shape(2, 2, 2, 2), seed: 5, std: 3), mode: .train)
        XCTAssertEqual(original.runningVar.array, [0.5, 3], "training the clone changed the original")
        XCTAssertNotEqual(copy.runningVar.array, [0.5, 3])
        let model = Sequential([copy])
        XCTAssertEqual(model.stateDictEntries.map(\.key), ["0.weight", "0.bias", "0.v", "0.running_var"])
        XCTAssertEqual(model.stateDict().tensors["0.running_var"]?.floats, copy.runningVar.array)
        XCTAssertTrue(model.runningStatisticsLayers.isEmpty, "no BatchNorm-style running mean to recalibrate or probe")
    }
}
