import XCTest
@testable import NN
@testable import TensorCore

/// BatchNorm (over blocks of channels), the element-wise and pooling layers (over blocks of values or
/// planes), the residual addition and whole networks on 2 and 3 threads compute the bits of one thread
/// (``ThreadCountCheck``). The tensors are larger than ``ComputeThreads/parallelMinimumWork`` values, so
/// the loops do split.
final class ParallelLayerTests: XCTestCase {
    private func passes(_ shape: Shape, _ outputShape: Shape, seed: UInt64) -> (inputs: [Tensor], gradients: [Tensor]) {
        ((0..<2).map { TestTensors.normal(shape, seed: seed + UInt64($0), mean: 0.3, std: 1.5) },
         (0..<2).map { TestTensors.normal(outputShape, seed: seed + 10 + UInt64($0)) })
    }

    private let adapted = Mode(normalization: .adapted(priorWeight: 0.25), dropout: .eval)

    func testBatchNormInEveryPhaseOverChannelBlocks() throws {
        var joins = 0
        for (shape, what) in [(Shape(32, 12, 10, 9), "BatchNorm2d"), (Shape(300, 150), "BatchNorm1d")] {
            let (inputs, gradients) = passes(shape, shape, seed: 10)
            let layer = BatchNorm(shape.channels)
            TestTensors.randomizeParameters(of: layer, seed: 3, 0.5, 1.5)
            for (mode, phase) in [(Mode.train, "train"), (.eval, "eval"), (adapted, "adapted")] {
                joins += try ThreadCountCheck.assertSameBits(layer, inputs: inputs, gradients: gradients, mode: mode,
                                                             "\(what), \(phase)")
            }
            joins += try ThreadCountCheck.assertSameBits(BatchNorm(shape.channels, ghostBatchSize: 7), inputs: inputs,
                                                         gradients: gradients, mode: .train, "\(what), ghost batches")
            joins += try ThreadCountCheck.assertSameBits(BatchRenorm(shape.channels), inputs: inputs, gradients: gradients,
                                                         mode: .train, "\(what), Batch Renormalization")
            joins += try ThreadCountCheck.assertSameBits(DataParallelBatchNorm(shape.channels, devices: 3, policy: .sync),
                                                         inputs: inputs, gradients: gradients, mode: .train,
                                                         "\(what), SyncBatchNorm")
        }
        XCTAssertGreaterThan(joins, 0, "the workers joined some region")
    }

    func testElementWiseAndPoolingLayersOverBlocks() throws {
        let x = Shape(24, 8, 16, 14)
        let cases: [(Layer, Shape, String)] = [
            (ReLU(), x, "ReLU"), (LeakyReLU(negativeSlope: 0.1), x, "LeakyReLU"),
            (MaxPool2d(kernelSize: 2), Shape(24, 8, 8, 7), "MaxPool2d 2x2"),
            (MaxPool2d(kernelSize: 3, stride: 2), Shape(24, 8, 7, 6), "MaxPool2d 3x3 stride 2"),
            (AvgPool2d(kernelSize: 3, stride: 2), Shape(24, 8, 7, 6), "AvgPool2d 3x3 stride 2"),
            (GlobalAvgPool2d(), Shape(24, 8), "GlobalAvgPool2d"),
        ]
        var joins = 0
        for (index, (layer, outputShape, what)) in cases.enumerated() {
            let (inputs, gradients) = passes(x, outputShape, seed: 100 + 20 * UInt64(index))
            joins += try ThreadCountCheck.assertSameBits(layer, inputs: inputs, gradients: gradients, mode: .train, what)
        }
        XCTAssertGreaterThan(joins, 0, "the workers joined some region")
    }

    /// The flagship CNN and a ResNet-8 with BatchNorm, train and eval mode: every layer of them at once.
    func testWholeNetworksGiveTheBitsOfOneThread() throws {
        var rng = RandomGenerator(seed: 7)
        let cnn = Sequential([
            Conv2d(1, 16, kernelSize: 3, padding: 1, computesInputGradient: false, rng: &rng), BatchNorm(16), ReLU(),
            MaxPool2d(kernelSize: 2),
            Conv2d(16, 32, kernelSize: 3, padding: 1, rng: &rng), BatchNorm(32), ReLU(), MaxPool2d(kernelSize: 2),
            Flatten(), Linear(32 * 4 * 4, 3, rng: &rng),
        ])
        let resnet = try ResidualNetwork.make(channels: 1, height: 16, width: 16, classes: 3, blocks: [1, 1, 1],
                                              widths: [16, 32, 64], stem: 16, norm: { BatchNorm($0.channels) },
                                              activation: { ReLU() }, dropout: nil, rng: &rng)
        var joins = 0
        for (model, what) in [(cnn, "flagship CNN"), (resnet, "ResNet-8")] {
            let (inputs, gradients) = passes(Shape(24, 1, 16, 16), Shape(24, 3), seed: 300)
            for (mode, phase) in [(Mode.train, "train"), (.eval, "eval")] {
                joins += try ThreadCountCheck.assertSameBits(model, inputs: inputs, gradients: gradients, mode: mode,
                                                             "\(what), \(phase)")
            }
        }
        XCTAssertGreaterThan(joins, 0, "the workers joined some region")
    }
}
