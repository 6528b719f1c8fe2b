import NN
import TensorCore
import XCTest

/// ``LeakyReLU`` against PyTorch (`leaky_relu_0p01`, `leaky_relu_0p2`: `torch.nn.LeakyReLU`, inputs with
/// exact +0 and -0), by finite differences away from the kink, and its gradient at exactly 0.
final class LeakyReLUTests: XCTestCase {
    override class func tearDown() {
        print(GoldenErrorRecord.shared.summary([.leakyReLU]))
        super.tearDown()
    }

    /// `y` is `x` or one float32 product `slope * x`, exactly as PyTorch computes it, and so is `dx`:
    /// the single-layer tolerance holds with room (the measured error is 0). The layer has no mode,
    /// so train and eval mode must both give PyTorch's values.
    private func assertGolden(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture.load(name)
        let slope = Float(try XCTUnwrap(fixture.config["negative_slope"] as? Double))
        let check = GoldenChecker(family: .leakyReLU, fixture: fixture)
        for mode in [Mode.train, .eval] {
            try check.assertForwardBackward(LeakyReLU(negativeSlope: slope), mode: mode, .singleLayer, file: file, line: line)
        }
        // The fixture holds exact zeros, where dx = slope * dy (PyTorch tests x > 0).
        let x = fixture.tensor("x").values, dy = fixture.tensor("dy").values, dx = fixture.tensor("dx").values
        let zeros = x.indices.filter { x[$0] == 0 }
        XCTAssertGreaterThan(zeros.count, 10, file: file, line: line)
        XCTAssertTrue(zeros.contains { x[$0].sign == .minus }, "the fixture has a -0", file: file, line: line)
        for i in zeros { XCTAssertEqual(dx[i], slope * dy[i], "\(name) dx[\(i)] at x = 0", file: file, line: line) }
    }

    func testMatchesPyTorchDefaultSlope() throws { try assertGolden("leaky_relu_0p01") }
    func testMatchesPyTorchSlope0p2() throws { try assertGolden("leaky_relu_0p2") }

    func testDefaultSlopeIsPyTorchs() {
        XCTAssertEqual(LeakyReLU().negativeSlope, 0.01)
    }

    /// At exactly 0 (either sign) the gradient is `slope * dy` and the output keeps the zero's sign,
    /// as `torch.nn.functional.leaky_relu`; a ReLU-style `x >= 0` test would give `dy`. Twelve values,
    /// so both the eight-wide loop and the tail run.
    func testGradientAtZeroIsTheSlope() throws {
        let layer = LeakyReLU(negativeSlope: 0.25)
        let x = Tensor(Shape(12), [0, -0.0, 2, -2, 0, 0, 0, 0, 0, -0.0, 3, -4])
        let y = try layer.forward(x, mode: .train)
        XCTAssertEqual(y.array, [0, 0, 2, -0.5, 0, 0, 0, 0, 0, 0, 3, -1])
        XCTAssertEqual(y.data[1].sign, .minus)
        XCTAssertEqual(y.data[9].sign, .minus)
        let dx = layer.backward(Tensor(Shape(12), Array(repeating: 4, count: 12)))
        XCTAssertEqual(dx.array, [1, 1, 4, 1, 1, 1, 1, 1, 1, 1, 4, 1])
    }

    /// `|x| >= 0.1` and steps of 1e-3: no step crosses the kink, and the function is linear on each
    /// side, so the difference quotients are exact up to rounding (GradientCheck's tolerances).
    func testGradientCheckAwayFromTheKink() throws {
        for slope: Float in [0.01, 0.3] {
            let x = TestTensors.awayFromZero(Shape(3, 2, 2, 3), seed: 21, margin: 0.1)
            try GradientCheck.check(LeakyReLU(negativeSlope: slope), input: x, mode: .train, relativeStep: 1e-3)
                .assertPasses()
        }
    }

    /// A clone is an independent layer with the same slope.
    func testCloneKeepsTheSlope() throws {
        let layer = LeakyReLU(negativeSlope: 0.2)
        let copy = layer.clone()
        XCTAssertEqual(copy.negativeSlope, 0.2)
        XCTAssertFalse(copy === layer)
    }
}
