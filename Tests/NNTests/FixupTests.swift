import NN
import TensorCore
import XCTest

/// Fixup (``FixupBlock``, ``ScalarBias``, ``ResidualNetwork/makeFixup(channels:height:width:classes:blocks:widths:stem:activation:dropout:rng:)``)
/// against a PyTorch transcription of the authors' `fixup_resnet_cifar.py` (the golden script checks
/// it equals their ResNet-20 exactly): two SGD steps from given weights (`fixup_sgd_2steps*`), the
/// authors' init statistics, and finite differences through whole blocks.
final class FixupTests: XCTestCase {
    override class func tearDown() {
        print(GoldenErrorRecord.shared.summary([.fixupTraining]))
        super.tearDown()
    }

    private func fixup(_ blocks: [Int], _ widths: [Int], stem: Int, input: (Int, Int, Int), classes: Int = 3,
                       activation: @escaping () -> Layer = { ReLU() }, seed: UInt64 = 0) throws -> Sequential {
        var rng = RandomGenerator(seed: seed)
        return try ResidualNetwork.makeFixup(channels: input.0, height: input.1, width: input.2, classes: classes,
                                             blocks: blocks, widths: widths, stem: stem, activation: activation,
                                             dropout: nil, rng: &rng)
    }

    /// No normalization: nothing divides by batch statistics, so the rounding differences of the 9 or 5
    /// convolutions barely compound over two steps; the single-layer tolerance holds (measured when
    /// written: 5.6e-7 elementwise relative, a 20-fold margin).
    func testTwoSGDStepsFromGivenWeights() throws {
        let model = try fixup([2, 1, 1], [2, 4, 8], stem: 2, input: (1, 8, 8))
        try PyTorchGoldenResNetTests.assertTraining(
            model, GoldenChecker(family: .fixupTraining, fixture: try Fixture.load("fixup_sgd_2steps")), .singleLayer,
            keysInOrder: false)
    }

    /// Widths 2 -> 3 at stride 1 and 3 -> 5 at stride 2: the zero channels are O - C, not C.
    func testTwoSGDStepsWithUnevenPaddingAndLeakyReLU() throws {
        let model = try fixup([1, 1], [3, 5], stem: 2, input: (1, 6, 6)) { LeakyReLU(negativeSlope: 0.1) }
        try PyTorchGoldenResNetTests.assertTraining(
            model, GoldenChecker(family: .fixupTraining, fixture: try Fixture.load("fixup_sgd_2steps_padding_leaky")),
            .singleLayer, keysInOrder: false)
    }

    /// The authors' init: conv2 of every block, the classifier's weight and bias are exactly 0; the
    /// scalar biases 0 and the scales 1; every block's conv1 is N(0, std) with
    /// `std = sqrt(2 / (O * 9)) * L^(-1/2)`, L = 4 blocks here.
    /// Tolerance of the sample statistics of n independent normal draws: the sample mean has standard
    /// error std / sqrt(n), the sample standard deviation std / sqrt(2n); both are held to 5 standard
    /// errors (a false failure has probability below 1e-6 per check), which still catches a wrong
    /// fan (fan_in vs fan_out differ by a factor of sqrt(2) or more here) or a missing L^(-1/2) (x2).
    func testInitializationIsTheAuthors() throws {
        let model = try fixup([2, 1, 1], [16, 32, 64], stem: 16, input: (3, 8, 8), classes: 10)
        let blocks = model.allLayers.compactMap { $0 as? FixupBlock }
        XCTAssertEqual(blocks.count, 4)
        for block in blocks {
            XCTAssertTrue(block.conv2.weight.value.array.allSatisfy { $0 == 0 }, block.name)
            XCTAssertEqual(block.ownParameters.map(\.name), ["bias1a", "bias1b", "bias2a", "scale", "bias2b"])
            XCTAssertEqual(block.ownParameters.map { $0.value.array }, [[0], [0], [0], [1], [0]])
            let w = block.conv1.weight.value.array.map(Double.init)
            let n = Double(w.count)
            let std = (2 / Double(block.conv1.outChannels * 9)).squareRoot() / Double(4).squareRoot()
            let mean = w.reduce(0, +) / n
            let sampleStd = (w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)).squareRoot()
            XCTAssertEqual(mean, 0, accuracy: 5 * std / n.squareRoot(), block.name)
            XCTAssertEqual(sampleStd, std, accuracy: 5 * std / (2 * n).squareRoot(), block.name)
        }
        let fc = try XCTUnwrap(model.layers.last as? Linear)
        XCTAssertTrue(fc.weight.value.array.allSatisfy { $0 == 0 } && fc.bias!.value.array.allSatisfy { $0 == 0 })
        XCTAssertEqual(model.allLayers.compactMap { ($0 as? ScalarBias)?.bias.value.array }, [[0], [0]])
        // The stem keeps PyTorch's default init: U(-1/sqrt(27), 1/sqrt(27)), not zero.
        let stem = try XCTUnwrap(model.layers.first as? Conv2d)
        XCTAssertTrue(stem.weight.value.array.allSatisfy { abs($0) <= 1 / Float(27).squareRoot() })
        XCTAssertTrue(stem.weight.value.array.contains { $0 != 0 })
        // At init the output is the (zero) classifier's: every logit is exactly 0.
        let logits = try model.forward(TestTensors.normal(Shape(2, 3, 8, 8), seed: 3), mode: .train)
        XCTAssertEqual(logits.array, Array(repeating: 0, count: 20))
    }

    /// The authors' keys: `bias1`, `bias2` bare (not `bias1.bias`), per block the five scalars and
    /// the two conv weights, no downsample entries (the shortcut has no parameters).
    func testStateDictKeys() throws {
        let model = try fixup([1, 1], [2, 4], stem: 2, input: (1, 6, 6))
        XCTAssertEqual(model.stateDictEntries.map(\.key), [
            "conv1.weight", "bias1",
            "layer1.0.bias1a", "layer1.0.bias1b", "layer1.0.bias2a", "layer1.0.scale", "layer1.0.bias2b",
            "layer1.0.conv1.weight", "layer1.0.conv2.weight",
            "layer2.0.bias1a", "layer2.0.bias1b", "layer2.0.bias2a", "layer2.0.scale", "layer2.0.bias2b",
            "layer2.0.conv1.weight", "layer2.0.conv2.weight",
            "bias2", "fc.weight", "fc.bias",
        ])
        XCTAssertEqual(model.namedParameters.map(\.name), model.stateDictEntries.map(\.key))
        XCTAssertThrowsError(try fixup([1, 1], [4, 2], stem: 4, input: (1, 6, 6)), "widths must not shrink")
    }

    // MARK: - Finite differences through one block

    private func block(_ c: Int, _ out: Int, stride: Int, seed: UInt64,
                       activations: (Layer, Layer) = (ReLU(), ReLU())) -> FixupBlock {
        var rng = RandomGenerator(seed: seed)
        let b = FixupBlock(conv1: Conv2d(c, out, kernelSize: 3, stride: stride, padding: 1, bias: false, rng: &rng),
                           activation1: activations.0,
                           conv2: Conv2d(out, out, kernelSize: 3, padding: 1, bias: false, rng: &rng),
                           activation2: activations.1)
        for p in b.ownParameters { p.value.data[0] = (p.name == "scale" ? 1 : 0) + 0.3 * rng.normal() }
        return b
    }

    /// The block with its ReLUs frozen at `x` (``FrozenMask``; see ``FrozenKinks`` for why), masks
    /// computed here from the block's formulas with clones of its convolutions.
    private func frozen(_ b: FixupBlock, at x: Tensor) throws -> FixupBlock {
        let a = Tensor(x.shape, x.array.map { $0 + b.bias1a.value.data[0] })
        let h1 = try b.conv1.clone().forward(a, mode: .train)
        let pre1 = h1.array.map { $0 + b.bias1b.value.data[0] }
        let mask1 = pre1.map { $0 > 0 ? Float(1) : 0 }
        let c = Tensor(h1.shape, zip(pre1, mask1).map { $0 * $1 + b.bias2a.value.data[0] })
        let h2 = try b.conv2.clone().forward(c, mode: .train).array
        let o = b.conv2.outChannels, oh = h1.shape[2], ow = h1.shape[3], s = b.conv1.stride
        var identity = [Float](repeating: 0, count: h2.count)
        for n in 0..<x.shape.batch {
            for ch in 0..<(b.hasShortcut ? b.conv1.inChannels : o) {
                for i in 0..<oh {
                    for j in 0..<ow {
                        let source = ((n * x.shape.channels + ch) * x.shape[2] + i * s) * x.shape[3] + j * s
                        identity[((n * o + ch) * oh + i) * ow + j] = b.hasShortcut ? a.data[source] : x.data[source]
                    }
                }
            }
        }
        let mask2 = (0..<h2.count).map { h2[$0] * b.scale.value.data[0] + b.bias2b.value.data[0] + identity[$0] > 0 ? Float(1) : 0 }
        let copy = FixupBlock(conv1: b.conv1.clone(), activation1: FrozenMask(mask1), conv2: b.conv2.clone(),
                              activation2: FrozenMask(mask2))
        for (mine, theirs) in zip(b.ownParameters, copy.ownParameters) { theirs.value.assign(mine.value) }
        return copy
    }

    func testGradientCheckIdentityBlock() throws {
        let b = block(3, 3, stride: 1, seed: 1)
        XCTAssertFalse(b.hasShortcut)
        let x = TestTensors.normal(Shape(2, 3, 4, 3), seed: 2)
        try GradientCheck.check(b, input: x, mode: .train, reference: try frozen(b, at: x)).assertPasses()
    }

    /// Stride 2 and 2 -> 5 channels: the subsampling shortcut and the three zero channels.
    func testGradientCheckShortcutBlock() throws {
        let b = block(2, 5, stride: 2, seed: 3)
        XCTAssertTrue(b.hasShortcut)
        let x = TestTensors.normal(Shape(2, 2, 5, 4), seed: 4)
        try GradientCheck.check(b, input: x, mode: .train, reference: try frozen(b, at: x)).assertPasses()
    }

    /// A scalar bias: `dx = dy`, `db = sum(dy)`.
    func testGradientCheckScalarBias() throws {
        let layer = ScalarBias()
        layer.bias.value.data[0] = 0.7
        try GradientCheck.check(layer, input: TestTensors.normal(Shape(3, 2, 2, 2), seed: 5), mode: .train).assertPasses()
    }

    /// A clone copies the scalars and the convolutions, and is independent.
    func testCloneCopiesTheScalars() throws {
        let b = block(2, 4, stride: 2, seed: 6)
        let copy = b.clone()
        XCTAssertEqual(copy.parameters.map(\.value.array), b.parameters.map(\.value.array))
        copy.scale.value.data[0] = 9
        XCTAssertNotEqual(b.scale.value.data[0], 9)
    }
}
