import NN
import TensorCore
import XCTest

/// `BatchRenorm` against the torch reference in `scripts/pytorch_golden.py` (Ioffe 2017; PyTorch
/// has no such layer): three train steps from running statistics mean 0.5 / var 2, with r and d
/// clipped at least once each (`scalars.clipped_*`), then one eval step.
final class PyTorchGoldenBatchRenormTests: XCTestCase {
    override class func tearDown() {
        print(GoldenErrorRecord.shared.summary([.batchRenorm]))
        super.tearDown()
    }

    private func assertTrainStepsThenEval(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture.load(name)
        let check = GoldenChecker(family: .batchRenorm, fixture: fixture)
        let features = try XCTUnwrap(fixture.config["num_features"] as? Int)
        let eps = try XCTUnwrap(fixture.config["eps"] as? Double)
        let rMax = try XCTUnwrap(fixture.config["rmax"] as? Double)
        let dMax = try XCTUnwrap(fixture.config["dmax"] as? Double)
        let steps = try XCTUnwrap(fixture.config["steps"] as? Int)
        // The reference clips with the full rmax/dmax from the first step: no warm-up, no ramp.
        let limits = BatchRenorm.Limits(rMax: Float(rMax), dMax: Float(dMax), warmupSteps: 0, rampSteps: 0)
        let layer = BatchRenorm(features, eps: Float(eps), momentum: fixture.momentum(), limits: limits)
        var clipped = (rHigh: 0, rLow: 0, d: 0)
        try check.assertTrainStepsThenEval(layer, steps: steps, dx: .singleLayer, file: file, line: line) { prefix in
            // r = sigma_B / sigma and d = (mu_B - running_mean) / sigma are ratios of double-computed
            // statistics; a clipped value is the limit itself, exact in both.
            check.assertClose(layer.lastR.array, prefix + "r", .singleLayer, file: file, line: line)
            check.assertClose(layer.lastD.array, prefix + "d", .singleLayer, file: file, line: line)
            clipped.rHigh += layer.lastR.array.filter { $0 == Float(rMax) }.count
            clipped.rLow += layer.lastR.array.filter { $0 == Float(1 / rMax) }.count
            clipped.d += layer.lastD.array.filter { abs($0) == Float(dMax) }.count
        }
        // The same clipping events as the reference: the clipped branches were exercised here too.
        XCTAssertEqual(clipped.rHigh, Int(fixture.scalar("clipped_r_high")), "\(name): r clipped at rmax", file: file, line: line)
        XCTAssertEqual(clipped.rLow, Int(fixture.scalar("clipped_r_low")), "\(name): r clipped at 1/rmax", file: file, line: line)
        XCTAssertEqual(clipped.d, Int(fixture.scalar("clipped_d")), "\(name): |d| clipped at dmax", file: file, line: line)
    }

    func testBatchRenorm2dBatch5() throws { try assertTrainStepsThenEval("batchrenorm2d_n5") }
    func testBatchRenorm1dBatch6() throws { try assertTrainStepsThenEval("batchrenorm1d_n6") }
}
