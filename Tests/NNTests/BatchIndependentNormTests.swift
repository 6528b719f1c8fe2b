import Foundation
import XCTest
import NN
import TensorCore

/// What the batch-independent normalization layers promise besides their golden values: train and
/// eval mode compute the same function, one sample's output does not depend on the others in its
/// batch, and clones are real copies. Also the inputs they refuse (timm's layers are 2-d only).
final class BatchIndependentNormTests: XCTestCase {
    private func frn(seed: UInt64) -> FilterResponseNorm {
        let layer = FilterResponseNorm(channels: 3)
        TestTensors.randomizeParameters(of: layer, seed: seed, -1, 1)
        return layer
    }

    /// `layer` on `x` in train and eval mode, and on each sample of `x` alone: all must be equal
    /// bit for bit (the same Float operations on the same values, nothing across the batch).
    private func assertModeAndBatchIndependent(_ layer: Layer, _ x: Tensor, file: StaticString = #filePath, line: UInt = #line) throws {
        let train = try layer.forward(x, mode: .train).array
        let eval = try layer.clone().forward(x, mode: .eval).array
        XCTAssertEqual(train, eval, "\(layer.name): train and eval mode differ", file: file, line: line)
        let perSample = x.shape.perSample
        for n in 0..<x.shape.batch {
            let one = Tensor(x.shape.withBatch(1))
            for i in 0..<perSample { one.data[i] = x.data[n * perSample + i] }
            let alone = try layer.clone().forward(one, mode: .train).array
            XCTAssertEqual(alone, Array(train[(n * perSample)..<((n + 1) * perSample)]),
                           "\(layer.name): sample \(n) depends on the rest of its batch", file: file, line: line)
        }
    }

    func testFilterResponseNormIsTheSameInEveryModeAndBatch() throws {
        let layer = frn(seed: 1)
        try assertModeAndBatchIndependent(layer, TestTensors.normal(Shape(4, 3, 3, 2), seed: 2, mean: 0.3, std: 2))
    }

    func testFilterResponseNormFormula() throws {
        // One plane of 4 values, by hand: nu2 = (1 + 4 + 9 + 16) / 4 = 7.5, r = 1/sqrt(7.5 + eps).
        let layer = FilterResponseNorm(channels: 1, eps: 0.5)
        layer.weight.value.fill(2)
        layer.bias.value.fill(0.25)
        layer.tau!.value.fill(1)
        let x = Tensor(Shape(1, 1, 2, 2), [1, -2, 3, -4])
        let y = try layer.forward(x, mode: .train).array
        let r = 1 / (7.5 + 0.5).squareRoot()
        let expected = [1.0, -2, 3, -4].map { max(2 * $0 * r + 0.25, 1) }
        for (a, e) in zip(y, expected) { XCTAssertEqual(Double(a), e, accuracy: 1e-6) }
        XCTAssertEqual(y.filter { $0 == 1 }.count, 3, "three values are below tau = 1 and clamped to it")
    }

    func testFilterResponseNormRefusesFeatureVectors() {
        XCTAssertThrowsError(try frn(seed: 3).forward(TestTensors.normal(Shape(2, 3), seed: 4), mode: .train)) { error in
            XCTAssertEqual((error as? LayerError)?.message,
                           "expected input (N, 3, H, W) (timm's FilterResponseNormTlu2d is 2-d only), got (2, 3)")
        }
    }

    func testFilterResponseNormCloneIsACopy() throws {
        let layer = frn(seed: 5)
        let copy = layer.clone()
        XCTAssertEqual(copy.parameters.map(\.value.array), layer.parameters.map(\.value.array))
        copy.tau!.value.fill(9)
        XCTAssertNotEqual(layer.tau!.value.array, copy.tau!.value.array, "changing the clone changed the original")
    }

    func testFilterResponseNormInitIsTimms() {
        let layer = FilterResponseNorm(channels: 2)
        XCTAssertEqual(layer.weight.value.array, [1, 1])
        XCTAssertEqual(layer.bias.value.array, [0, 0])
        XCTAssertEqual(layer.tau!.value.array, [0, 0])
        XCTAssertEqual(layer.eps, 1e-5, "timm's default eps")
    }

    func testEvoNormS0IsTheSameInEveryModeAndBatch() throws {
        let layer = try EvoNormS0(channels: 4, groups: 2)
        TestTensors.randomizeParameters(of: layer, seed: 6, -1, 1)
        try assertModeAndBatchIndependent(layer, TestTensors.normal(Shape(3, 4, 2, 3), seed: 7, mean: -0.2, std: 1.5))
    }

    func testEvoNormS0Formula() throws {
        // One sample, one group of 2 channels x 2 values: x = 1, 3 | -1, 5; mean 2, biased var
        // (1 + 1 + 9 + 9) / 4 = 5, std = sqrt(5 + eps).
        let layer = try EvoNormS0(channels: 2, groups: 1, eps: 0.5)
        layer.weight.value.assign(Tensor(Shape(2), [2, -1]))
        layer.bias.value.assign(Tensor(Shape(2), [0.5, 0.25]))
        layer.v!.value.assign(Tensor(Shape(2), [1, -2]))
        let y = try layer.forward(Tensor(Shape(1, 2, 1, 2), [1, 3, -1, 5]), mode: .eval).array
        let std = (5 + 0.5).squareRoot()
        func sigmoid(_ z: Double) -> Double { 1 / (1 + Foundation.exp(-z)) }
        let expected = [1 * sigmoid(1) / std * 2 + 0.5, 3 * sigmoid(3) / std * 2 + 0.5,
                        -1 * sigmoid(2) / std * -1 + 0.25, 5 * sigmoid(-10) / std * -1 + 0.25]
        for (a, e) in zip(y, expected) { XCTAssertEqual(Double(a), e, accuracy: 1e-6) }
    }

    func testEvoNormS0InitAndRefusals() throws {
        let layer = try EvoNormS0(channels: 64)
        XCTAssertEqual(layer.groups, 32, "timm's default")
        XCTAssertEqual(layer.v!.value.array, Array(repeating: 1, count: 64))
        XCTAssertEqual(layer.eps, 1e-5)
        XCTAssertThrowsError(try EvoNormS0(channels: 6, groups: 4)) { error in
            XCTAssertEqual((error as? LayerError)?.description, "EvoNormS0: groups (4) must divide the number of channels (6)")
        }
        XCTAssertThrowsError(try layer.forward(TestTensors.normal(Shape(2, 64), seed: 8), mode: .train)) { error in
            XCTAssertEqual((error as? LayerError)?.message,
                           "expected input (N, 64, H, W) (timm's EvoNorm2dS0 is 2-d only), got (2, 64)")
        }
    }
}
