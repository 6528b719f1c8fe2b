import XCTest
import NN
import TensorCore

/// Finite-difference checks (``GradientCheck``, tolerances stated there) of Cross-Iteration
/// BatchNorm's backward, which CBN.py defines as the gradient of its forward with the past
/// statistics and the Taylor compensation held fixed (detached):
/// - during burn-in the whole block (conv and norm) is plain autograd: every gradient is checked;
/// - with a history, the norm alone with respect to its input and its parameters (the conv fixed,
///   each perturbed forward on a clone with the same history), where the code's gradient is the true one;
///   with respect to the conv weight it is not (the compensation reads `weight.data`), which is shown.
final class CrossIterationBatchNormGradientTests: XCTestCase {
    /// The norm after a fixed conv that ran on `convInput`; its input is the norm's input.
    private final class NormAfterFixedConv: Layer {
        let conv: Conv2d, norm: CrossIterationBatchNorm, convInput: Tensor
        init(conv: Conv2d, norm: CrossIterationBatchNorm, convInput: Tensor) {
            self.conv = conv; self.norm = norm; self.convInput = convInput
        }
        var name: String { "NormAfterFixedConv(\(norm.name))" }
        var parameters: [Parameter] { norm.parameters }
        func clone() -> NormAfterFixedConv { NormAfterFixedConv(conv: conv.clone(), norm: norm.clone(), convInput: convInput) }
        func forward(_ y: Tensor, mode: Mode) throws -> Tensor {
            _ = try conv.forward(convInput, mode: mode)  // the columns the statistics' derivatives read
            return try norm.forward(y, mode: mode, conv: conv)
        }
        func backward(_ dy: Tensor) -> Tensor { norm.backward(dy) }
    }

    private func block(settings: CrossIterationBatchNorm.Settings, seed: UInt64) -> ConvCrossIterationBatchNorm {
        var rng = RandomGenerator(seed: seed)
        let block = ConvCrossIterationBatchNorm(conv: Conv2d(2, 3, kernelSize: 3, padding: 1, bias: false, rng: &rng),
                                                norm: CrossIterationBatchNorm(3, settings: settings))
        TestTensors.randomizeParameters(of: block.norm, seed: seed + 1, 0.5, 1.5)
        return block
    }

    /// Trains `steps` passes, moving the conv weight after each, so the history differs from the weight.
    private func advance(_ block: ConvCrossIterationBatchNorm, steps: Int, seed: UInt64) throws {
        for s in 0..<steps {
            let x = TestTensors.normal(Shape(2, 2, 3, 3), seed: seed + UInt64(s), mean: 0.3, std: 1.2)
            block.zeroGradients()
            let y = try block.forward(x, mode: .train)
            _ = block.backward(TestTensors.normal(y.shape, seed: seed + 100 + UInt64(s)))
            for i in 0..<block.conv.weight.value.count { block.conv.weight.value.data[i] -= 0.2 * block.conv.weight.gradient.data[i] }
        }
    }

    private let x = TestTensors.normal(Shape(2, 2, 3, 3), seed: 50, mean: 0.3, std: 1.2)

    func testBurnInIsPlainAutogradForTheWholeBlock() throws {
        let b = block(settings: .init(bufferSize: 2, burnin: 3), seed: 1)
        try advance(b, steps: 1, seed: 10)  // pass 2 of a burn-in of 3: unbiased batch statistics
        try GradientCheck.check(b, input: x, mode: .train).assertPasses()
        XCTAssertEqual(b.norm.historyCount, 0)
    }

    func testWithHistoryTheNormsGradientIsTheTrueOneWithThePastFixed() throws {
        for settings in [CrossIterationBatchNorm.Settings(bufferSize: 2, burnin: 1),
                         .init(bufferSize: 3, burnin: 2, rho: 0.5, twoStage: false)] {
            let b = block(settings: settings, seed: 2)
            try advance(b, steps: 4, seed: 20)
            XCTAssertGreaterThan(b.norm.historyCount, 0)
            let y = try b.conv.forward(x, mode: .train)
            let wrapper = NormAfterFixedConv(conv: b.conv, norm: b.norm, convInput: x)
            try GradientCheck.check(wrapper, input: y.copy(), mode: .train).assertPasses()
        }
    }

    func testWithHistoryTheConvWeightGradientIgnoresTheCompensation() throws {
        let b = block(settings: .init(bufferSize: 2, burnin: 1), seed: 3)
        try advance(b, steps: 4, seed: 30)
        let report = try GradientCheck.check(b, input: x, mode: .train)
        // dx is exact (the compensation does not depend on x); dW is not (it reads weight.data).
        XCTAssertLessThan(report.comparisons[0].relativeNormError, 1e-2, "dx")
        XCTAssertGreaterThan(report.comparisons[1].relativeNormError, 1e-2, "the conv weight gradient matched")
    }

    func testEvalIsTheTrueGradient() throws {
        let b = block(settings: .init(bufferSize: 2, burnin: 1), seed: 4)
        try advance(b, steps: 3, seed: 40)
        let history = b.norm.historyCount, mean = b.norm.runningMean.array
        try GradientCheck.check(b, input: x, mode: .eval).assertPasses()
        XCTAssertEqual(b.norm.historyCount, history)
        XCTAssertEqual(b.norm.runningMean.array, mean)
    }

    func testTheNormAloneRefusesToRunWithoutItsConv() {
        XCTAssertThrowsError(try CrossIterationBatchNorm(3).forward(x, mode: .train))
    }
}
