import NN
import TensorCore
import XCTest

/// Finite-difference checks (``GradientCheck``, tolerances stated there) of a whole ``ResidualBlock``,
/// with the identity shortcut and with projections, and its structure: children in PyTorch's order,
/// clone, observer.
final class ResidualBlockTests: XCTestCase {
    /// A block of `c -> out` at `stride` with BatchNorm (random affine), ReLU, and a projection where
    /// the shape changes.
    private func block(_ c: Int, _ out: Int, stride: Int, seed: UInt64, dropPath: DropPath? = nil) -> ResidualBlock {
        var rng = RandomGenerator(seed: seed)
        func norm() -> BatchNorm {
            let n = BatchNorm(out)
            TestTensors.randomizeParameters(of: n, seed: rng.next(), 0.5, 1.5)
            return n
        }
        let conv1 = Conv2d(c, out, kernelSize: 3, stride: stride, padding: 1, bias: false, rng: &rng)
        let conv2 = Conv2d(out, out, kernelSize: 3, padding: 1, bias: false, rng: &rng)
        let downsample = stride != 1 || c != out
            ? Sequential([Conv2d(c, out, kernelSize: 1, stride: stride, bias: false, rng: &rng), norm()]) : nil
        return ResidualBlock(conv1: conv1, norm1: norm(), activation1: ReLU(), conv2: conv2, norm2: norm(),
                             downsample: downsample, dropPath: dropPath, activation2: ReLU())
    }

    /// The same block with its ReLUs replaced by their 0/1 masks at `x` (``FrozenMask``): equal to
    /// the block at `x`, smooth around it (see ``FrozenKinks`` for why differences need it), with the
    /// same parameters in the same order. The masks are computed from the children's own forwards, on
    /// a clone (so a norm's pass counter or history is as the original's in the reference).
    private func frozen(_ block: ResidualBlock, at x: Tensor, mode: Mode) throws -> ResidualBlock {
        let copy = block.clone()
        func run(_ layers: [Layer], _ input: Tensor) throws -> Tensor {
            try layers.reduce(input) { h, layer in try layer.forward(h, mode: mode) }
        }
        var h = try run(copy.unit1.layers, x)
        let mask1 = copy.activation1 == nil ? nil : h.array.map { $0 > 0 ? Float(1) : 0 }
        if let mask1 { h = try FrozenMask(mask1).forward(h, mode: mode) }
        var branch = try run(copy.unit2.layers, h)
        if let dropPath = copy.dropPath { branch = try dropPath.forward(branch, mode: mode) }  // the block's mask: a copied stream
        let main = branch.array
        let shortcut = try copy.downsample.map { try $0.forward(x, mode: mode).array } ?? x.array
        let mask2 = zip(main, shortcut).map { $0 + $1 > 0 ? Float(1) : 0 }
        return ResidualBlock(unit1: block.unit1.clone(), activation1: mask1.map(FrozenMask.init), unit2: block.unit2.clone(),
                             downsample: block.downsample?.clone(), dropPath: block.dropPath?.clone(),
                             activation2: FrozenMask(mask2))
    }

    private func check(_ block: ResidualBlock, input: Tensor, mode: Mode, file: StaticString = #filePath, line: UInt = #line) throws {
        let reference = try frozen(block, at: input, mode: mode)
        try GradientCheck.check(block, input: input, mode: mode, reference: reference)
            .assertPasses(file: file, line: line)
    }

    /// Identity shortcut: `dx` is the main branch's plus `dsum` itself.
    func testIdentityShortcutTrainMode() throws {
        let b = block(3, 3, stride: 1, seed: 1)
        XCTAssertNil(b.downsample)
        try check(b, input: TestTensors.normal(Shape(2, 3, 4, 5), seed: 2, mean: 0.3), mode: .train)
    }

    /// Strided projection (conv1x1 s2 + BatchNorm) changing the channels: both branches' gradients
    /// reach `dx`, and the projection's parameters get theirs.
    func testStridedProjectionTrainMode() throws {
        let b = block(2, 4, stride: 2, seed: 3)
        XCTAssertNotNil(b.downsample)
        try check(b, input: TestTensors.normal(Shape(2, 2, 5, 4), seed: 4, mean: -0.2), mode: .train)
    }

    /// Stride-1 projection (channels only) and the eval mode (running statistics moved off their init
    /// by one train pass).
    func testChannelProjectionEvalMode() throws {
        let b = block(2, 3, stride: 1, seed: 5)
        _ = try b.clone().forward(TestTensors.normal(Shape(3, 2, 4, 4), seed: 6), mode: .train)
        _ = try b.forward(TestTensors.normal(Shape(3, 2, 4, 4), seed: 6, mean: 1, std: 2), mode: .train)
        try check(b, input: TestTensors.normal(Shape(2, 2, 4, 4), seed: 7), mode: .eval)
    }

    /// With stochastic depth (timm's DropPath on the residual branch before the addition), train mode:
    /// the dropped samples' gradient reaches `dx` through the shortcut only, the kept ones' main branch
    /// is scaled by 1/keep. Each evaluation's clone repeats the block's mask (copied stream).
    func testDropPathOnTheResidualBranchTrainMode() throws {
        let b = block(3, 3, stride: 1, seed: 9, dropPath: try DropPath(p: 0.5, rng: RandomGenerator(seed: 10)))
        let x = TestTensors.normal(Shape(6, 3, 3, 3), seed: 11, mean: 0.2)
        _ = try b.clone().forward(x, mode: .train)
        let mask = try XCTUnwrap(b.clone().dropPath.map { d -> [Float] in
            _ = try d.forward(Tensor(Shape(6, 1), Array(repeating: 1, count: 6)), mode: .train)
            return d.lastMask!
        })
        XCTAssertTrue(mask.contains(0) && mask.contains(2), "the seed drops some samples and keeps some: \(mask)")
        try check(b, input: x, mode: .train)
        try check(b, input: x, mode: .eval)
        XCTAssertEqual(b.namedChildren.map(\.name), ["conv1", "bn1", "relu", "conv2", "bn2", "drop_path", "relu2"])
    }

    /// torchvision's module order: conv1 bn1 relu conv2 bn2 downsample (its relu2 is torchvision's
    /// `relu` applied again); parameters follow it.
    func testChildrenInPyTorchOrder() {
        let b = block(2, 4, stride: 2, seed: 8)
        XCTAssertEqual(b.namedChildren.map(\.name), ["conv1", "bn1", "relu", "conv2", "bn2", "downsample", "relu2"])
        XCTAssertEqual(b.parameters.map(\.value.shape), [
            Shape(4, 2, 3, 3), Shape(4), Shape(4), Shape(4, 4, 3, 3), Shape(4), Shape(4), Shape(4, 2, 1, 1), Shape(4), Shape(4),
        ])
        XCTAssertEqual(b.allLayers.compactMap { $0 as? BatchNorm }.count, 3)
    }

    /// A clone is a deep copy: training the clone changes neither the weights nor the running
    /// statistics of the original.
    func testCloneIsIndependent() throws {
        let b = block(2, 2, stride: 1, seed: 9)
        let before = b.parameters.map(\.value.array)
        let statistics = b.allLayers.compactMap { ($0 as? BatchNorm)?.runningMean.array }
        let copy = b.clone()
        _ = try copy.forward(TestTensors.normal(Shape(2, 2, 3, 3), seed: 10, mean: 2), mode: .train)
        for p in copy.parameters { p.value.fill(7) }
        XCTAssertEqual(b.parameters.map(\.value.array), before)
        XCTAssertEqual(b.allLayers.compactMap { ($0 as? BatchNorm)?.runningMean.array }, statistics)
    }

    /// The observing forward sees every leaf with its input and computes what `forward` does.
    func testObservingForwardSeesEveryLeafAndComputesTheSame() throws {
        let b = block(2, 4, stride: 2, seed: 11)
        let x = TestTensors.normal(Shape(2, 2, 4, 4), seed: 12)
        let plain = try b.clone().forward(x, mode: .eval).array
        var seen: [String] = []
        let observed = try b.forward(x, mode: .eval) { layer, input in seen.append("\(layer.name) \(input.shape)") }.array
        XCTAssertEqual(observed, plain)
        XCTAssertEqual(seen, [
            "Conv2d(2->4, k3, s2, p1) \(Shape(2, 2, 4, 4))",
            "\(b.norm1!.name) \(Shape(2, 4, 2, 2))", "ReLU \(Shape(2, 4, 2, 2))",
            "Conv2d(4->4, k3, s1, p1) \(Shape(2, 4, 2, 2))", "\(b.norm2!.name) \(Shape(2, 4, 2, 2))",
            "Conv2d(2->4, k1, s2, p0) \(Shape(2, 2, 4, 4))", "\(b.norm2!.name) \(Shape(2, 4, 2, 2))",
            "ReLU \(Shape(2, 4, 2, 2))",
        ])
    }

    /// A shortcut whose output does not fit the main branch is refused in forward, with both shapes.
    func testMismatchedShortcutThrows() throws {
        var rng = RandomGenerator(seed: 13)
        let b = ResidualBlock(conv1: Conv2d(2, 3, kernelSize: 3, stride: 2, padding: 1, rng: &rng), norm1: nil,
                              activation1: ReLU(), conv2: Conv2d(3, 3, kernelSize: 3, padding: 1, rng: &rng), norm2: nil,
                              downsample: Sequential([Conv2d(2, 3, kernelSize: 1, rng: &rng)]), activation2: ReLU())
        XCTAssertThrowsError(try b.forward(TestTensors.normal(Shape(1, 2, 4, 4), seed: 14), mode: .train)) { error in
            XCTAssertTrue("\(error)".contains("shortcut gives"), "\(error)")
        }
    }

    // MARK: The remedies' blocks (ResidualNetwork's placement, ConvNorm units)

    /// A `c -> out` block at `stride` as ``ResidualNetwork`` builds it, `norm(applyActivation)` making
    /// each site's norm (random parameters): bn1 with the activation, bn2 and the projection's without.
    private func remedyBlock(_ c: Int, _ out: Int, stride: Int, seed: UInt64,
                             norm: (Bool) throws -> Layer) throws -> ResidualBlock {
        var rng = RandomGenerator(seed: seed)
        func unit(_ i: Int, kernel: Int, stride: Int, activation: Bool, names: (conv: String, norm: String)) throws -> ConvNorm {
            let n = try norm(activation)
            TestTensors.randomizeParameters(of: n, seed: rng.next(), 0.5, 1.5)
            return ConvNorm.make(i, out, kernelSize: kernel, stride: stride, padding: kernel / 2, norm: n, names: names, rng: &rng)
        }
        let unit1 = try unit(c, kernel: 3, stride: stride, activation: true, names: ("conv1", "bn1"))
        let unit2 = try unit(out, kernel: 3, stride: 1, activation: false, names: ("conv2", "bn2"))
        let projection = try unit(c, kernel: 1, stride: stride, activation: false, names: ("0", "1"))
        return ResidualBlock(unit1: unit1, activation1: unit1.appliesActivation ? nil : ReLU(), unit2: unit2,
                             downsample: projection.module, activation2: ReLU())
    }

    private let remedyInput = TestTensors.normal(Shape(2, 2, 5, 4), seed: 40, mean: 0.3, std: 1.2)

    /// FRN: bn1 with the TLU (its thresholds placed between response values, out of a step's reach),
    /// bn2 and downsample.1 without; no ReLU after bn1.
    func testFilterResponseNormBlock() throws {
        let b = try remedyBlock(2, 4, stride: 2, seed: 41) { FilterResponseNorm(channels: 4, applyActivation: $0) }
        XCTAssertNil(b.activation1)
        XCTAssertEqual(b.namedChildren.map(\.name), ["conv1", "bn1", "conv2", "bn2", "downsample", "relu2"])
        XCTAssertEqual((b.norm2 as? FilterResponseNorm)?.tau == nil, true)
        let bn1Input = try b.conv1.clone().forward(remedyInput, mode: .train)
        let margin = try FrozenKinks.placeThresholds(try XCTUnwrap(b.norm1 as? FilterResponseNorm), input: bn1Input)
        XCTAssertGreaterThan(margin, 0.05, "thresholds too close to a response value")
        try check(b, input: remedyInput, mode: .train)
    }

    /// EvoNorm-S0: smooth (the sigmoid); bn2 and downsample.1 are the affine only.
    func testEvoNormS0Block() throws {
        let b = try remedyBlock(2, 4, stride: 2, seed: 42) { try EvoNormS0(channels: 4, groups: 2, applyActivation: $0) }
        XCTAssertEqual(b.parameters.count, 10, "conv1, bn1 (w, b, v), conv2, bn2 (w, b), downsample.0, downsample.1 (w, b)")
        try check(b, input: remedyInput, mode: .train)
    }

    /// EvoNorm-B0 in eval mode with a running variance far above every `right = x * v + istd` of
    /// bn1's input (`left` always wins: no kink within reach); bn2 and downsample.1 the affine only.
    func testEvoNormB0BlockEvalMode() throws {
        let b = try remedyBlock(2, 4, stride: 2, seed: 43) { EvoNormB0(channels: 4, applyActivation: $0) }
        let bn1 = try XCTUnwrap(b.norm1 as? EvoNormB0)
        bn1.runningVar.fill(400)
        let h = try b.conv1.clone().forward(remedyInput, mode: .eval).array
        let largest = h.map(abs).max()!, v = bn1.v!.value.array.map(abs).max()!
        // istd <= max |h - mean| <= 2 max |h|: right <= max|h| (|v| + 2), well below left = 20.
        XCTAssertLessThan(largest * (v + 2), 10)
        try check(b, input: remedyInput, mode: .eval)
    }

    /// MABN at its first pass (t = 1 <= B: the batch's E[x^2], r = 1), where MABN.py's backward is the
    /// true gradient; every conv centred and bias-free. Three input channels: a 1x1 centred conv of two
    /// computes `(w0 - w1) / 2 * (x0 - x1)`, which MABN then normalizes to nearly scale-free, so the
    /// function of the projection's weights is sharply curved where `w0 ~ w1` and a finite-difference
    /// step of 1e-2 misses (with 2 channels, at 3 of the 4 seeds tried); with 3 the centred filter keeps 2 free directions.
    func testMovingAverageBatchNormBlockFirstPass() throws {
        let b = try remedyBlock(3, 4, stride: 2, seed: 44) { _ in MovingAverageBatchNorm(4, bufferSize: 3, warmupIterations: 0) }
        let convs = b.allLayers.compactMap { $0 as? Conv2d }
        XCTAssertEqual(convs.count, 3)
        XCTAssertTrue(convs.allSatisfy { $0.centredWeights && $0.bias == nil })
        try check(b, input: TestTensors.normal(Shape(2, 3, 5, 4), seed: 49, mean: 0.3, std: 1.2), mode: .train)
    }

    /// CBN in burn-in (plain batch statistics, autograd's gradient): every conv and its norm joined,
    /// under torchvision's / mmdet's names; the clone's norms read the clone's convs.
    func testCrossIterationBatchNormBlockBurnIn() throws {
        let b = try remedyBlock(2, 4, stride: 2, seed: 45) { _ in
            CrossIterationBatchNorm(4, settings: .init(bufferSize: 2, burnin: 3))
        }
        XCTAssertEqual(b.children.filter { $0 is ConvCrossIterationBatchNorm }.count, 3, "unit1, unit2, downsample")
        XCTAssertEqual(b.namedChildren.map(\.name), ["conv1", "bn1", "relu", "conv2", "bn2", "downsample", "relu2"])
        XCTAssertEqual(b.downsample?.namedChildren.map(\.name), ["0", "1"])
        try check(b, input: remedyInput, mode: .train)
        let copy = b.clone()
        let joined = try XCTUnwrap(copy.unit1.joined)
        XCTAssertTrue(joined.conv === copy.conv1 && joined.norm === copy.norm1, "the clone's unit reads its own conv")
        XCTAssertFalse(copy.conv1 === b.conv1)
        var seen: [String] = []
        _ = try copy.forward(remedyInput, mode: .eval) { layer, _ in seen.append(layer is Conv2d ? "conv" : "norm") }
        XCTAssertEqual(seen.filter { $0 == "conv" }.count, 3)
        XCTAssertEqual(seen.count, 3 + 3 + 2, "3 convs, 3 norms, 2 ReLUs")
    }
}
