import NN
import TensorCore
import XCTest

/// ``Dropout``'s two conventions (inverted, PyTorch's; classical, Srivastava et al. 2014) and the
/// functional-dropout bug (`activeInEval`, pytorch/pytorch#26338).
final class DropoutConventionTests: XCTestCase {
    /// Hand example, exact in float32: x = 3, p = 0.5 and p = 0.75 (keep 0.5 and 0.25, whose
    /// reciprocals 2 and 4 are exact). A kept unit is `x / keep` (inverted) or `x` (classical); its
    /// expectation over the mask, `keep * kept`, equals the eval output `x` (inverted) or `keep * x`
    /// (classical) exactly.
    func testTrainExpectationEqualsEvalOutputExactly() throws {
        for (p, keep) in [(Float(0.5), Float(0.5)), (0.75, 0.25)] {
            for convention in Dropout.Convention.allCases {
                let layer = try Dropout(p: p, rng: RandomGenerator(seed: 1), convention: convention)
                let x = Tensor(Shape(400, 1), Array(repeating: 3, count: 400))
                let train = try layer.forward(x, mode: .train).array
                let kept = try XCTUnwrap(train.first { $0 != 0 })
                XCTAssertTrue(train.allSatisfy { $0 == 0 || $0 == kept }, "\(convention) p \(p)")
                XCTAssertEqual(kept, convention == .inverted ? 3 / keep : 3, "\(convention) p \(p): kept unit")
                let eval = try layer.forward(x, mode: .eval).array
                XCTAssertEqual(eval, Array(repeating: convention == .inverted ? 3 : keep * 3, count: 400))
                XCTAssertEqual(keep * kept, eval[0], "\(convention) p \(p): E_train[y] = y_eval")
            }
        }
    }

    /// The same statistically: x ~ U[0.5, 1.5] (1e5 values), p = 0.3. The mean of the train output
    /// differs from the mean of the eval output by `(1/n) sum_i x_i s (b_i - keep)`, whose standard
    /// error is `s sqrt(keep (1 - keep) sum_i x_i^2) / n` (s = 1/keep inverted, 1 classical); it must lie
    /// within 5 of them. Evaluating classical weights without the factor (the inverted eval rule) is
    /// `1/keep = 1.43` times too large, hundreds of standard errors off.
    func testTrainMeanMatchesEvalMeanWithinFiveStandardErrors() throws {
        let p: Float = 0.3, keep = 1 - Double(p)
        let x = TestTensors.uniform(Shape(1000, 100), seed: 2, 0.5, 1.5)
        let sumSquares = x.array.reduce(0.0) { $0 + Double($1) * Double($1) }
        for convention in Dropout.Convention.allCases {
            let layer = try Dropout(p: p, rng: RandomGenerator(seed: 3), convention: convention)
            let trainMean = try layer.forward(x, mode: .train).array.reduce(0.0) { $0 + Double($1) } / 1e5
            let evalMean = try layer.forward(x, mode: .eval).array.reduce(0.0) { $0 + Double($1) } / 1e5
            let scale = convention == .inverted ? 1 / keep : 1
            let standardError = scale * (keep * (1 - keep) * sumSquares).squareRoot() / 1e5
            XCTAssertEqual(trainMean, evalMean, accuracy: 5 * standardError, "\(convention)")
            let mixedEvalMean = convention == .classical ? evalMean / keep : evalMean * keep
            XCTAssertGreaterThan(abs(trainMean - mixedEvalMean), 100 * standardError, "\(convention): mixing shows")
        }
    }

    /// Classical eval mode: `y = (1 - p) x`, `dx = (1 - p) dy`; nothing drawn, no mask reported.
    /// Its train mode keeps units unscaled, and its gradient follows the 0/1 mask.
    func testClassicalEvalScalesAndTrainDoesNot() throws {
        let layer = try Dropout(p: 0.25, rng: RandomGenerator(seed: 4), convention: .classical)
        let x = TestTensors.normal(Shape(4, 5), seed: 5)
        XCTAssertEqual(try layer.forward(x, mode: .eval).array, x.array.map { $0 * 0.75 })
        XCTAssertEqual(layer.backward(x).array, x.array.map { $0 * 0.75 })
        XCTAssertNil(layer.lastMask)
        XCTAssertEqual(layer.rng, RandomGenerator(seed: 4))
        let y = try layer.forward(x, mode: .train).array
        XCTAssertTrue(zip(y, x.array).allSatisfy { $0 == 0 || $0 == $1 }, "kept units unscaled")
        XCTAssertEqual(Set(try XCTUnwrap(layer.lastMask)), [0, 1])
        try GradientCheck.check(layer, input: x, mode: .eval).assertPasses()
        try GradientCheck.check(layer, input: x, mode: .train, relativeStep: 1e-3).assertPasses()
    }

    /// `activeInEval` (F.dropout(x, p) with its default training=True): eval mode draws masks, drops
    /// and scales by 1/(1 - p), exactly as train mode with the same stream; off (the default) eval mode
    /// is the identity, today's behaviour. A clone keeps the setting.
    func testActiveInEvalDrawsMasksInEvalMode() throws {
        let x = TestTensors.uniform(Shape(20, 10), seed: 6, 0.5, 1.5)
        let buggy = try Dropout(p: 0.4, rng: RandomGenerator(seed: 7), activeInEval: true)
        let reference = try Dropout(p: 0.4, rng: RandomGenerator(seed: 7))
        let clone = buggy.clone()
        XCTAssertTrue(clone.activeInEval)
        let eval = try buggy.forward(x, mode: .eval).array
        XCTAssertEqual(eval, try reference.forward(x, mode: .train).array, "eval mode runs the train-mode rule")
        XCTAssertTrue(eval.contains(0))
        XCTAssertTrue(zip(eval, x.array).allSatisfy { $0 == 0 || $0 == $1 * (1 / Float(0.6)) })
        XCTAssertNotNil(buggy.lastMask)
        XCTAssertNotEqual(buggy.rng, RandomGenerator(seed: 7), "eval mode drew")
        XCTAssertEqual(try clone.forward(x, mode: .eval).array, eval, "the clone draws the same mask")
        XCTAssertNotEqual(try buggy.forward(x, mode: .eval).array, eval, "two eval passes disagree")

        let off = try Dropout(p: 0.4, rng: RandomGenerator(seed: 7))
        XCTAssertFalse(off.activeInEval)
        XCTAssertEqual(try off.forward(x, mode: .eval).array, x.array)
        XCTAssertEqual(off.rng, RandomGenerator(seed: 7))
    }
}
