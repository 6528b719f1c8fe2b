import Foundation
import XCTest
import Charts
import Reports
import SpecFormat

/// The flagship table at the top of README.md is the committed summary, digit for digit:
/// one row per batch size of the grid (not the convergence check's), `mean ± 95% CI half-width` with two
/// decimals of the training loop's accuracy, the four test accuracies and the paired train − eval gap. A `make experiments` that moves a
/// number makes this test fail until the README is updated with it.
final class ReadmeFlagshipTableTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testReadmeFlagshipTableIsTheCommittedSummary() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        guard let open = readme.range(of: "<!-- flagship -->"), let close = readme.range(of: "<!-- /flagship -->") else {
            return XCTFail("README.md lacks the <!-- flagship --> markers")
        }
        let rows = readme[open.upperBound..<close.lowerBound].split(separator: "\n")
            .filter { $0.hasPrefix("| ") && $0.first(where: \.isNumber) != nil && !$0.contains("---") }
            .filter { Int($0.split(separator: "|").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "") != nil }
            .map(String.init)
        let summary = Table(csv: try String(contentsOf: Self.root.appendingPathComponent("Results/small-batch-collapse-summary.csv"),
                                            encoding: .utf8))
        let columns = ["train_acc_running", "test_acc_train_mode", "test_acc_eval_mode", "test_acc_recalibrated",
                       "test_acc_batch_stats", "train_mode_minus_eval_mode"]
        // The grid's rows (budget_factor 1), not the convergence check's.
        let expected = summary.rows.filter { summary.value($0, "budget_factor") == "1" }
            .map { row in
                "| \(summary.value(row, "batch_size") ?? "?") | "
                    + columns.map { "\(summary.value(row, $0 + "_mean") ?? "?") ± \(summary.value(row, $0 + "_ci95") ?? "?")" }
                        .joined(separator: " | ") + " |"
            }
        XCTAssertEqual(expected.count, 8, "the flagship sweeps 8 batch sizes")
        XCTAssertEqual(rows, expected, "README.md's flagship table differs from Results/small-batch-collapse-summary.csv")
    }
}
