import XCTest
import NN
import TensorCore

/// ``NormalizationPhase/trainWithoutUpdate`` (Keras 2.1.3 ... TF 1.x's `trainable=False` BatchNormalization in
/// `fit`; PyTorch's `F.batch_norm(x, None, None, weight, bias, training=True)`): the forward and backward of
/// train mode, bit for bit, and no buffer moved. Each layer is compared with a clone of itself run in train
/// mode, which does move its buffers (so the comparison could fail).
/// Shape legend: `x (N, C, H, W)`, here (4, 3, 2, 2).
final class TrainWithoutUpdateTests: XCTestCase {
    private static let frozen = Mode(normalization: .trainWithoutUpdate, dropout: .train)

    /// Every buffer of `layer` (running statistics and counters) by its state-dict key.
    private func buffers(_ layer: Layer) -> [String: SafeTensor] {
        Dictionary(uniqueKeysWithValues: Sequential([layer]).stateDictEntries.filter { $0.kind == .buffer }
            .map { ($0.key, $0.value) })
    }

    /// The layers with running statistics that implement the phase, each with statistics away from their
    /// initial 0 and 1 (two train passes), so that a pass that read them instead of the batch's would differ.
    private func layers() throws -> [(name: String, layer: Layer)] {
        var made: [(String, Layer)] = [
            ("BatchNorm", BatchNorm(3)),
            ("BatchNorm ghost 2", BatchNorm(3, ghostBatchSize: 2)),
            ("BatchRenorm", BatchRenorm(3, limits: BatchRenorm.Limits(rMax: 1.5, dMax: 0.5))),
            ("EvoNormB0", EvoNormB0(channels: 3)),
        ]
        for policy in [DataParallelBatchNorm.Policy.rank0, .reduce, .sync] {
            made.append(("DataParallelBatchNorm \(policy)", DataParallelBatchNorm(3, devices: 2, policy: policy)))
        }
        for (i, (_, layer)) in made.enumerated() {
            TestTensors.randomizeParameters(of: layer, seed: UInt64(40 + i), 0.5, 1.5)
            for pass in 0..<2 {
                _ = try layer.forward(TestTensors.normal(Shape(4, 3, 2, 2), seed: UInt64(50 + pass), mean: 1, std: 2),
                                      mode: .train)
            }
        }
        return made
    }

    func testForwardAndBackwardAreTrainModesAndNoBufferMoves() throws {
        let x = TestTensors.normal(Shape(4, 3, 2, 2), seed: 7, mean: -0.5, std: 3)
        let dy = TestTensors.normal(Shape(4, 3, 2, 2), seed: 8)
        for (name, frozen) in try layers() {
            let trained = frozen.clone()
            let before = buffers(frozen)
            let y = try frozen.forward(x, mode: Self.frozen).array
            XCTAssertEqual(y, try trained.forward(x, mode: .train).array, "\(name): forward")
            XCTAssertEqual(buffers(frozen), before, "\(name): train-without-update moved a buffer")
            XCTAssertNotEqual(buffers(trained), before, "\(name): train mode moves its buffers (the test can fail)")
            frozen.zeroGradients()
            trained.zeroGradients()
            XCTAssertEqual(frozen.backward(dy).array, trained.backward(dy).array, "\(name): dx")
            XCTAssertEqual(frozen.parameters.map(\.gradient.array), trained.parameters.map(\.gradient.array),
                           "\(name): parameter gradients")
            // Eval mode reads the buffers, which the frozen passes left alone: not the batch statistics.
            XCTAssertNotEqual(try frozen.forward(x, mode: .eval).array, y, "\(name): eval differs from batch statistics")
        }
    }

    /// The renorm limits' schedule counts train passes; a frozen pass is not one of them.
    func testBatchRenormsScheduleDoesNotAdvance() throws {
        let layer = BatchRenorm(2, limits: BatchRenorm.Limits(rMax: 3, dMax: 5, warmupSteps: 1, rampSteps: 4))
        _ = try layer.forward(TestTensors.normal(Shape(3, 2), seed: 1), mode: .train)
        _ = try layer.forward(TestTensors.normal(Shape(3, 2), seed: 2), mode: Self.frozen)
        XCTAssertEqual(layer.trainSteps, 1)
        XCTAssertEqual(layer.numBatchesTracked, 1)
    }

    /// MABN and CBN keep buffers of past batches' statistics, which their train pass reads and writes:
    /// "batch statistics, nothing updated" has no meaning there, and they refuse it before any change.
    func testMABNAndCBNRefuseIt() throws {
        let message = "train-without-update (a frozen layer normalizing with batch statistics) is not defined:"
            + " its train passes keep buffers of past batches' statistics"
        let mabn = MovingAverageBatchNorm(3, bufferSize: 2)
        var rng = RandomGenerator(seed: 3)
        let cbn = ConvCrossIterationBatchNorm(conv: Conv2d(3, 3, kernelSize: 3, padding: 1, bias: false, rng: &rng),
                                              norm: CrossIterationBatchNorm(3))
        for layer in [mabn, cbn] as [Layer] {
            let before = buffers(layer)
            XCTAssertThrowsError(try layer.forward(TestTensors.normal(Shape(2, 3, 2, 2), seed: 4), mode: Self.frozen)) {
                XCTAssertEqual(($0 as? LayerError)?.message, message, layer.name)
            }
            XCTAssertEqual(buffers(layer), before, layer.name)
        }
    }
}
