import NN
import TensorCore
import XCTest

/// Batch Renormalization's clipping schedule, observed through the layer's forward pass:
/// `ramp(t) = clamp((t - warmupSteps) / rampSteps, 0, 1)` with `t` the train steps taken
/// BEFORE the current one (``BatchRenorm/Limits/limits(atStep:)``).
///
/// Set-up: one feature, batch `x = (100, 110, 120, 130)` (mean 115, biased variance 125,
/// `sigma_B` about 11.2) against running statistics mean 0, variance 1 held still by
/// momentum 0, so at every step `sigma_B / sigma` (about 11.2) and
/// `(mean_B - running_mean) / sigma` (about 115) lie far beyond any limit used here:
/// `r` and `d` come out clipped at exactly `r_max(t)` and `d_max(t)`. Exact comparisons:
/// a clipped value is the limit itself, and the limits below are exact binary fractions.
final class BatchRenormScheduleTests: XCTestCase {
    /// `(r, d)` of each of `steps` train steps of a fresh layer with `limits`.
    private func observedLimits(_ limits: BatchRenorm.Limits, steps: Int) throws -> [(r: Float, d: Float)] {
        let layer = BatchRenorm(1, momentum: .exponential(0), limits: limits)
        let x = Tensor(Shape(4, 1), [100, 110, 120, 130])
        return try (0..<steps).map { _ in
            _ = try layer.forward(x, mode: .train)
            XCTAssertEqual(layer.runningMean[0], 0, "momentum 0 must hold the running mean still")
            return (layer.lastR[0], layer.lastD[0])
        }
    }

    func testWarmupThenLinearRampCountingTheStepsBeforeThisOne() throws {
        // warm-up 2, ramp 4: steps t = 0, 1, 2 plain BatchNorm (ramp 0 at t = 2 too),
        // then 1/4, 2/4, 3/4 and the full limits from t = 6 = warmup + ramp on.
        let observed = try observedLimits(BatchRenorm.Limits(rMax: 3, dMax: 5, warmupSteps: 2, rampSteps: 4), steps: 8)
        let expected: [(Float, Float)] = [(1, 0), (1, 0), (1, 0), (1.5, 1.25), (2, 2.5), (2.5, 3.75), (3, 5), (3, 5)]
        XCTAssertEqual(observed.count, expected.count)
        for (t, (seen, wanted)) in zip(observed, expected).enumerated() {
            XCTAssertEqual(seen.r, wanted.0, "r_max at step t = \(t)")
            XCTAssertEqual(seen.d, wanted.1, "d_max at step t = \(t)")
        }
    }

    func testNoRampJumpsToTheFullLimitsAtTheEndOfWarmup() throws {
        let observed = try observedLimits(BatchRenorm.Limits(rMax: 3, dMax: 5, warmupSteps: 2, rampSteps: 0), steps: 4)
        XCTAssertEqual(observed.map(\.r), [1, 1, 3, 3])
        XCTAssertEqual(observed.map(\.d), [0, 0, 5, 5])
    }

    func testNoWarmupNoRampClipsWithTheFullLimitsFromTheFirstStep() throws {
        let observed = try observedLimits(BatchRenorm.Limits(rMax: 3, dMax: 5), steps: 2)
        XCTAssertEqual(observed.map(\.r), [3, 3])
        XCTAssertEqual(observed.map(\.d), [5, 5])
    }

    func testEvalPassesDoNotAdvanceTheSchedule() throws {
        let layer = BatchRenorm(1, momentum: .exponential(0),
                                limits: BatchRenorm.Limits(rMax: 3, dMax: 5, warmupSteps: 1, rampSteps: 2))
        let x = Tensor(Shape(4, 1), [100, 110, 120, 130])
        _ = try layer.forward(x, mode: .train)  // t = 0: plain
        for _ in 0..<5 { _ = try layer.forward(x, mode: .eval) }
        _ = try layer.forward(x, mode: .train)  // t = 1: ramp 0, still plain
        XCTAssertEqual(layer.lastR[0], 1)
        _ = try layer.forward(x, mode: .train)  // t = 2: ramp 1/2
        XCTAssertEqual(layer.lastR[0], 2)
        XCTAssertEqual(layer.lastD[0], 2.5)
    }
}
