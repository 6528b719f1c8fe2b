import XCTest
import NN
import TensorCore

/// `y = a * x` with a scalar parameter `a`, whose backward can be made wrong on purpose:
/// `dx = inputFactor * a * dy`, `da (+)= parameterFactor * sum(x * dy)`. With both factors 1
/// and `accumulates` it is correct.
private final class ScaleLayer: Layer {
    let scale: Parameter
    let inputFactor: Float
    let parameterFactor: Float
    let accumulates: Bool
    private var input: Tensor?
    private let output = Tensor()
    private let inputGradient = Tensor()

    init(_ a: Float, inputFactor: Float = 1, parameterFactor: Float = 1, accumulates: Bool = true) {
        scale = Parameter(name: "scale", value: Tensor(Shape(1), [a]))
        self.inputFactor = inputFactor
        self.parameterFactor = parameterFactor
        self.accumulates = accumulates
    }

    var name: String { "Scale" }
    var parameters: [Parameter] { [scale] }
    func clone() -> ScaleLayer {
        ScaleLayer(scale.value[0], inputFactor: inputFactor, parameterFactor: parameterFactor, accumulates: accumulates)
    }

    func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        input = x
        output.resize(to: x.shape)
        for i in 0..<x.count { output.data[i] = scale.value[0] * x.data[i] }
        return output
    }

    func backward(_ dy: Tensor) -> Tensor {
        let x = input!
        var dot: Float = 0
        inputGradient.resize(to: x.shape)
        for i in 0..<x.count {
            dot += x.data[i] * dy.data[i]
            inputGradient.data[i] = inputFactor * scale.value[0] * dy.data[i]
        }
        let da = parameterFactor * dot
        scale.gradient[0] = accumulates ? scale.gradient[0] + da : da
        return inputGradient
    }
}

/// The checker itself: it must pass a correct backward and FAIL wrong ones, including
/// errors as small as 5 %, errors in a parameter gradient only, and a backward that
/// assigns gradients instead of accumulating them.
final class GradientCheckTests: XCTestCase {
    private let x = TestTensors.normal(Shape(3, 4), seed: 11)

    func testCorrectBackwardPasses() throws {
        let report = try GradientCheck.check(ScaleLayer(0.7), input: x, mode: .train)
        report.assertPasses()
        XCTAssertEqual(report.comparisons.count, 2)  // dL/dx and dL/dscale
    }

    func testDoubledInputGradientIsCaught() throws {
        // y = x, backward returns 2 * dy.
        let report = try GradientCheck.check(ScaleLayer(1, inputFactor: 2), input: x, mode: .train)
        XCTAssertEqual(report.comparisons.map { $0.failures.isEmpty }, [false, true])
        XCTAssertEqual(report.comparisons[0].relativeNormError, 0.5, accuracy: 1e-3)  // ||2dy - dy|| / ||2dy||
    }

    func testFivePercentErrorIsCaught() throws {
        let report = try GradientCheck.check(ScaleLayer(0.7, inputFactor: 1.05), input: x, mode: .train)
        XCTAssertFalse(report.comparisons[0].failures.isEmpty, "a 5 % error in dL/dx must fail the check")
    }

    func testWrongParameterGradientIsCaught() throws {
        let report = try GradientCheck.check(ScaleLayer(0.7, parameterFactor: -1), input: x, mode: .train)
        XCTAssertEqual(report.comparisons.map { $0.failures.isEmpty }, [true, false])
    }

    func testAssigningInsteadOfAccumulatingIsCaught() throws {
        let report = try GradientCheck.check(ScaleLayer(0.7, accumulates: false), input: x, mode: .train)
        XCTAssertEqual(report.comparisons.map { $0.failures.isEmpty }, [true, false])
    }

    func testNumericGradientOfCubeIsExactUpToTruncation() {
        // d/dv sum v^3 = 3 v^2; the central difference gives 3 v^2 + h^2 exactly (in real
        // arithmetic), h = 1e-2 * max(1, |v|). Other errors: rounding v +- h to Float
        // (~3|v| * 1e-7, covered by the extra 1 % of h^2 >= 1e-6) and the Double rounding of
        // L (~1e-15 / 2h, covered by 1e-9). A one-sided difference would err by 3|v|h >> h^2.
        let v = Tensor(Shape(4), [-1.5, -0.25, 0.5, 2])
        let numeric = GradientCheck.numericGradient(of: v) {
            v.array.reduce(0.0) { $0 + Double($1) * Double($1) * Double($1) }
        }
        for i in 0..<4 {
            let value = Double(v[i])
            let h = 1e-2 * max(1, abs(value))
            XCTAssertEqual(numeric[i], 3 * value * value, accuracy: h * h * 1.01 + 1e-9, "element \(i)")
        }
        XCTAssertEqual(v.array, [-1.5, -0.25, 0.5, 2], "values are restored exactly")
    }

    func testCompareFlagsSingleBadElement() {
        // One element (0.7) off by 0.04 in a tensor of 100 with norm 5.34: the norm check
        // (0.04 / 5.34 = 0.0075 < 1e-2) does not see it; the per-element check (allowed
        // 3e-2 * 0.7 + 5e-3 * 0.9 = 0.0255) must.
        let numeric = (0..<100).map { Double($0 % 10) / 10 }
        var analytic = numeric
        analytic[37] += 0.04
        let comparison = GradientCheck.compare("one bad", analytic: analytic, numeric: numeric)
        XCTAssertEqual(comparison.failures.count, 1)
        XCTAssertTrue(comparison.failures[0].contains("1 of 100 elements"), comparison.failures[0])
    }
}
