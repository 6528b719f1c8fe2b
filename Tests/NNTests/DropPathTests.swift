import NN
import TensorCore
import XCTest

/// ``DropPath`` against timm's `drop_path` (fixtures `drop_path_conv_p0p5`, `drop_path_flat_p0p2`:
/// the module transcribed verbatim from `timm/layers/drop.py`), by finite differences, its eval
/// identity, the per-sample mask and its 1/keep scale, the keep rate, and timm's per-block rates.
final class DropPathTests: XCTestCase {
    override class func tearDown() {
        print(GoldenErrorRecord.shared.summary([.dropPath]))
        super.tearDown()
    }

    /// Train mode with the mask timm drew, then eval mode. `y = x * m_n` is one float32 product, as
    /// in PyTorch, and so is `dx = dy * m_n`: the single-layer tolerance holds with room (the measured
    /// error is 0). The scale bnlab draws for a kept sample must be timm's `1/keep` in float32 exactly.
    private func assertGolden(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture.load(name)
        let p = Float(try XCTUnwrap(fixture.config["drop_prob"] as? Double))
        let mask = fixture.tensor("mask").values
        let check = GoldenChecker(family: .dropPath, fixture: fixture)
        let layer = try DropPath(p: p, rng: RandomGenerator(seed: 1))
        let y = layer.forward(fixture.swiftTensor("x"), fixedMask: mask)
        check.assertClose(y.array, "y", .singleLayer, file: file, line: line)
        check.assertClose(layer.backward(fixture.swiftTensor("dy")).array, "dx", .singleLayer, file: file, line: line)
        try check.assertForwardBackward(layer, prefix: "eval.", mode: .eval, .singleLayer, file: file, line: line)

        let scale = try XCTUnwrap(mask.first { $0 != 0 })
        let x = Tensor(Shape(64, 1), Array(repeating: 1, count: 64))
        let drawn = try layer.forward(x, mode: .train).array
        XCTAssertTrue(drawn.allSatisfy { $0 == 0 || $0 == scale }, "\(name): kept samples scaled by timm's 1/keep",
                      file: file, line: line)
        XCTAssertTrue(drawn.contains(0) && drawn.contains(scale), file: file, line: line)
    }

    func testMatchesTimmOnConvFeatures() throws { try assertGolden("drop_path_conv_p0p5") }
    func testMatchesTimmOnFlatFeatures() throws { try assertGolden("drop_path_flat_p0p2") }

    /// A hand example: (3, 2, 2) samples, p = 0.5 (keep 0.5, scale exactly 2), mask [2, 0, 2]: the
    /// first and last sample doubled whole, the middle one zero; the gradient follows the same mask.
    func testMaskIsPerSampleAndScalesByOneOverKeep() throws {
        let layer = try DropPath(p: 0.5, rng: RandomGenerator(seed: 2))
        let x = Tensor(Shape(3, 2, 1, 2), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        XCTAssertEqual(layer.forward(x, fixedMask: [2, 0, 2]).array, [2, 4, 6, 8, 0, 0, 0, 0, 18, 20, 22, 24])
        XCTAssertEqual(layer.lastMask, [2, 0, 2])
        let dy = Tensor(Shape(3, 2, 1, 2), Array(repeating: 1, count: 12))
        XCTAssertEqual(layer.backward(dy).array, [2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 2, 2])

        // Drawn masks: every value of a sample shares its factor, 0 or 1/keep.
        let drawn = try DropPath(p: 0.25, rng: RandomGenerator(seed: 3))
        let ones = Tensor(Shape(40, 3, 2, 2), Array(repeating: 1, count: 40 * 12))
        let y = try drawn.forward(ones, mode: .train).array
        let keepScale = 1 / Float(0.75)
        for n in 0..<40 {
            let sample = Array(y[n * 12..<(n + 1) * 12])
            XCTAssertEqual(Set(sample).count, 1, "sample \(n) has one factor")
            XCTAssertTrue(sample[0] == 0 || sample[0] == keepScale, "sample \(n): \(sample[0])")
        }
        XCTAssertEqual(try XCTUnwrap(drawn.lastMask).count, 40, "one mask value per sample")
    }

    /// Eval mode (and p = 0 in train mode, timm's early return) is the identity and draws nothing.
    func testEvalModeIsTheIdentity() throws {
        let layer = try DropPath(p: 0.5, rng: RandomGenerator(seed: 4))
        let x = TestTensors.normal(Shape(5, 3), seed: 5)
        XCTAssertEqual(try layer.forward(x, mode: .eval).array, x.array)
        XCTAssertEqual(layer.backward(x).array, x.array)
        XCTAssertNil(layer.lastMask)
        XCTAssertEqual(layer.rng, RandomGenerator(seed: 4), "eval mode draws nothing")
        let none = try DropPath(p: 0, rng: RandomGenerator(seed: 4))
        XCTAssertEqual(try none.forward(x, mode: .train).array, x.array)
        XCTAssertEqual(none.rng, RandomGenerator(seed: 4))
        // BatchNorm's train mode with dropout's eval phase (train-mode accuracy): DropPath is off.
        XCTAssertEqual(try layer.forward(x, mode: Mode(normalization: .train, dropout: .eval)).array, x.array)
    }

    /// Gradient checks (``GradientCheck``): with a fixed mask, and in train mode, where each
    /// evaluation's clone repeats the analytic pass's mask (a mask per evaluation would fail).
    func testGradientCheck() throws {
        let x = TestTensors.normal(Shape(8, 2, 1, 3), seed: 6)
        let mask: [Float] = [1 / Float(0.6), 0, 1 / Float(0.6), 0, 0, 1 / Float(0.6), 1 / Float(0.6), 0]
        try GradientCheck.check(try DropPath(p: 0.4, rng: RandomGenerator(seed: 7)), input: x, mode: .train,
                                forward: { ($0 as! DropPath).forward($1, fixedMask: mask) }).assertPasses()
        let layer = try DropPath(p: 0.5, rng: RandomGenerator(seed: 8))
        let drawn = try layer.clone().forward(x, mode: .train).array
        XCTAssertTrue(drawn.contains(0) && drawn.contains { $0 != 0 }, "the seed's mask drops and keeps samples")
        try GradientCheck.check(layer, input: x, mode: .train).assertPasses()
        try GradientCheck.check(layer, input: x, mode: .eval).assertPasses()
    }

    /// Binomial(20000, 0.7): the kept fraction has standard error sqrt(0.7 * 0.3 / 20000) = 0.00324;
    /// it must lie within 5 of them (a false failure once in 1.7 million runs; a keep rate of p
    /// instead of 1 - p, 0.3, misses by 120 of them).
    func testKeepRate() throws {
        let layer = try DropPath(p: 0.3, rng: RandomGenerator(seed: 9))
        let y = try layer.forward(Tensor(Shape(20_000, 2), Array(repeating: 1, count: 40_000)), mode: .train).array
        let kept = stride(from: 0, to: y.count, by: 2).filter { y[$0] != 0 }.count
        XCTAssertEqual(Double(kept) / 20_000, 0.7, accuracy: 5 * 0.00324)
    }

    /// timm's `make_blocks`: `drop_path_rate * net_block_idx / (net_num_blocks - 1)`, in Double.
    func testLinearDecayRates() {
        XCTAssertEqual(DropPath.linearDecayRates(0.2, blocks: 3), [0, 0.1, 0.2])
        XCTAssertEqual(DropPath.linearDecayRates(0.3, blocks: 4), [0, Float(0.3 / 3), Float(0.6 / 3), 0.3])
        XCTAssertEqual(DropPath.linearDecayRates(0.1, blocks: 2), [0, 0.1])
        XCTAssertEqual(DropPath.linearDecayRates(0, blocks: 9), Array(repeating: 0, count: 9))
    }

    func testRefusesProbabilitiesOutsideZeroToOne() {
        for p: Float in [1, -0.1, 1.5] {
            XCTAssertThrowsError(try DropPath(p: p, rng: RandomGenerator(seed: 0))) { error in
                XCTAssertTrue((error as? LayerError)?.message.contains("\(p)") ?? false, "\(error)")
            }
        }
    }

    /// Same seed, same masks; a clone continues the same stream; reseeding replaces it.
    func testMasksFollowTheSeed() throws {
        let x = Tensor(Shape(30, 1), Array(repeating: 1, count: 30))
        let a = try DropPath(p: 0.5, rng: RandomGenerator(seed: 10))
        let clone = a.clone()
        let first = try a.forward(x, mode: .train).array
        XCTAssertEqual(try clone.forward(x, mode: .train).array, first)
        XCTAssertNotEqual(try a.forward(x, mode: .train).array, first, "the stream advances")
        a.reseed(RandomGenerator(seed: 10))
        XCTAssertEqual(try a.forward(x, mode: .train).array, first)
    }
}
