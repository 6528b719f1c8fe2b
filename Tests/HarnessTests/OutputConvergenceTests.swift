import Experiment
@testable import Reports
import XCTest

/// The report's convergence section: the doubled cells against the grid's, judged by the grid cell's CI.
final class OutputConvergenceTests: XCTestCase {
    /// A row whose paired train-minus-eval gap is `train - eval` with a CI of 0.5 (the gap's own interval).
    func row(_ batch: String, _ factor: String, train: Double, eval: Double, ci: Double?) -> Summary.Row {
        Summary.Row(settings: [batch, factor], seeds: 5, ok: 5, statistics: [
            .testAccTrainMode: SeedStatistics(mean: train, std: nil, ci95: ci),
            .testAccEvalMode: SeedStatistics(mean: eval, std: nil, ci95: ci),
        ], differences: [.trainMinusEval: SeedStatistics(mean: train - eval, std: nil, ci95: 0.5)])
    }

    func testMovesAreJudgedAgainstTheGridCellsInterval() {
        let summary = Summary(settingNames: ["batch_size", "budget_factor"], rows: [
            row("1", "1", train: 97.5, eval: 60.0, ci: 1.5),
            row("64", "1", train: 88.0, eval: 87.0, ci: 2.0),
            row("1", "2", train: 97.9, eval: 58.0, ci: 1.0),
            row("64", "2", train: 89.0, eval: 86.5, ci: 1.0),
        ])
        let check = ConvergenceCheck(summary: summary, gridBudgetFactor: 1)
        XCTAssertEqual(check.grid.rows.map(\.settings), [["1", "1"], ["64", "1"]])
        XCTAssertEqual(check.markdown(sweptSettings: ["batch_size"], summary: summary), """
            Each checked cell trained again with twice the budget (`budget_factor` doubled, same seeds); a move is \
            the change of the mean, judged against the half-width of the grid cell's 95% CI.

            - batch_size=1: twice the budget moves train mode +0.4 (within ±1.5), eval mode -2.0 (outside ±1.5), \
            train mode minus eval mode +2.4 (outside ±0.5).
            - batch_size=64: twice the budget moves train mode +1.0 (within ±2.0), eval mode -0.5 (within ±2.0), \
            train mode minus eval mode +1.5 (outside ±0.5).

            3 of 6 moves exceed the grid cell's 95% CI: those cells have not converged, and their numbers measure \
            the training budget as well as the normalization.

            """)
    }

    /// A measure that does not move (GroupNorm's train/eval gap: exactly 0 in every seed, so a half-width of 0)
    /// has converged; a move of 0.1 against that interval has not.
    func testAMeasureThatDoesNotMoveHasConverged() {
        func gapRow(_ factor: String, gap: Double) -> Summary.Row {
            Summary.Row(settings: ["1", factor], seeds: 5, ok: 5, statistics: [:],
                        differences: [.trainMinusEval: SeedStatistics(mean: gap, std: 0, ci95: 0)])
        }
        let still = ConvergenceCheck(summary: Summary(settingNames: ["batch_size", "budget_factor"],
                                                      rows: [gapRow("1", gap: 0), gapRow("2", gap: 0)]), gridBudgetFactor: 1)
        let text = still.markdown(sweptSettings: ["batch_size"], summary: still.grid)
        XCTAssertTrue(text.contains("train mode minus eval mode 0.0 (within ±0.0)"), text)
        XCTAssertTrue(text.contains("Every move is within the grid cell's 95% CI"), text)
        let moved = ConvergenceCheck(summary: Summary(settingNames: ["batch_size", "budget_factor"],
                                                      rows: [gapRow("1", gap: 0), gapRow("2", gap: 0.1)]), gridBudgetFactor: 1)
        XCTAssertTrue(moved.markdown(sweptSettings: ["batch_size"], summary: moved.grid).contains("1 of 1 moves exceed"))
    }
}
