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

    /// The same block with both ReLUs replaced by their 0/1 masks at `x` (``FrozenMask``): equal to
    /// the block at `x`, smooth around it (see ``FrozenKinks`` for why differences need it), with the
    /// same parameters in the same order. The masks are computed from the children's own forwards.
    private func frozen(_ block: ResidualBlock, at x: Tensor, mode: Mode) throws -> ResidualBlock {
        let copy = block.clone()
        var h = try copy.conv1.forward(x, mode: mode)
        h = try copy.norm1!.forward(h, mode: mode)
        let mask1 = h.array.map { $0 > 0 ? Float(1) : 0 }
        h = try copy.conv2.forward(FrozenMask(mask1).forward(h, mode: mode), mode: mode)
        var branch = try copy.norm2!.forward(h, mode: mode)
        if let dropPath = copy.dropPath { branch = try dropPath.forward(branch, mode: mode) }  // the block's mask: a copied stream
        let main = branch.array
        let shortcut = try copy.downsample.map { try $0.forward(x, mode: mode).array } ?? x.array
        let mask2 = zip(main, shortcut).map { $0 + $1 > 0 ? Float(1) : 0 }
        return ResidualBlock(conv1: block.conv1.clone(), norm1: block.norm1!.clone(), activation1: FrozenMask(mask1),
                             conv2: block.conv2.clone(), norm2: block.norm2!.clone(), downsample: block.downsample?.clone(),
                             dropPath: block.dropPath?.clone(), activation2: FrozenMask(mask2))
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
}
