import SpecFormat
import XCTest

/// `convergence_check`, `steps` and `lr_schedule` in the spec format.
final class SpecConvergenceCheckTests: XCTestCase {
    func testCheckedCellsFollowTheGridWithTwiceTheBudget() throws {
        let spec = try Spec.parse(text: """
            sweep batch_size 2 8
            sweep momentum 0.1 0.01
            seeds 0 1
            convergence_check momentum=0.1
            """, path: "t.spec")
        XCTAssertTrue(spec.hasConvergenceCheck)
        XCTAssertEqual(spec.cells().map { $0.cellKey() }, [
            "batch_size=2 momentum=0.1 seed=0", "batch_size=2 momentum=0.1 seed=1",
            "batch_size=2 momentum=0.01 seed=0", "batch_size=2 momentum=0.01 seed=1",
            "batch_size=8 momentum=0.1 seed=0", "batch_size=8 momentum=0.1 seed=1",
            "batch_size=8 momentum=0.01 seed=0", "batch_size=8 momentum=0.01 seed=1",
            "batch_size=2 momentum=0.1 budget_factor=2 seed=0", "batch_size=2 momentum=0.1 budget_factor=2 seed=1",
            "batch_size=8 momentum=0.1 budget_factor=2 seed=0", "batch_size=8 momentum=0.1 budget_factor=2 seed=1",
        ])
        XCTAssertEqual(spec.cells().map(\.budgetFactor), Array(repeating: 1, count: 8) + Array(repeating: 2, count: 4))
        let all = try Spec.parse(text: "sweep batch_size 2 8\nconvergence_check all\n", path: "t.spec")
        XCTAssertEqual(all.cells().count, 4)
        let list = try Spec.parse(text: "sweep batch_size 1 2 8\nconvergence_check batch_size=1,8\n", path: "t.spec")
        XCTAssertEqual(list.cells().map { $0.cellKey() }, [
            "batch_size=1 seed=0", "batch_size=2 seed=0", "batch_size=8 seed=0",
            "batch_size=1 budget_factor=2 seed=0", "batch_size=8 budget_factor=2 seed=0",
        ])
    }

    func testRefusals() {
        func error(_ text: String) -> String {
            do { _ = try Spec.parse(text: text, path: "t.spec"); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(error("sweep batch_size 2 8\nconvergence_check batch_size=4\n"),
                       "t.spec:2:30: error: convergence_check matches no cell of the grid")
        XCTAssertEqual(error("sweep budget_factor 1 2\nconvergence_check all\n"),
                       "t.spec:1:1: error: convergence_check doubles budget_factor, which this spec sweeps; sweep it alone")
        XCTAssertEqual(error("epochs 5\nsteps 100\n"),
                       "t.spec:1:8: error: 'epochs' is set but has no effect: steps is set: the step budget decides")
        XCTAssertEqual(error("lr_schedule step gamma=0.5\n"),
                       "t.spec:1:13: error: lr_schedule step needs every=...")
        XCTAssertEqual(error("lr_schedule cosine warmup_start=2\n"),
                       "t.spec:1:33: error: lr_schedule warmup_start must be in (0, 1] (LinearLR's start_factor), got 2")
    }
}
