import Foundation
import Charts
import Datasets
import Experiment
import Reports
import SpecFormat
import XCTest

/// Cells that fail do not stop a sweep: a diverging loss marks the cell `diverged` with
/// where, a configuration PyTorch refuses marks it `invalid` with why; the run exits 0.
final class CellOutcomeTests: XCTestCase {
    /// Runs a spec of `settings` after the shared ones (40 training and `testSplit` test images of
    /// the shapes, evaluation batches of `evalBatchSize`, recalibration batches of 20); returns its
    /// results table.
    private func runSpec(_ settings: String, testSplit: Int = 20, evalBatchSize: Int = 20,
                         file: StaticString = #filePath, line: UInt = #line) throws -> Table {
        let directory = try scratchDirectory(for: self)
        let text = "dataset shapes size=12 noise=0.25\ntrain_split 40\ntest_split \(testSplit)\n"
            + "eval_batch_size \(evalBatchSize)\nrecalibrate_batch_size 20\n" + settings
        try text.write(to: directory.appendingPathComponent("cells.spec"), atomically: true, encoding: .utf8)
        let outcome = try BNLabChild.run(["run", "cells.spec", "--out", "out", "--jobs", "1", "--quiet"], in: directory,
                                         file: file, line: line)
        XCTAssertEqual(outcome.status, 0, outcome.standardError, file: file, line: line)
        let csv = try String(contentsOf: directory.appendingPathComponent("out/cells.csv"), encoding: .utf8)
        return Table(csv: csv)
    }

    func testHugeLearningRateDivergesWithEpochAndStepAndTheSweepGoesOn() throws {
        let table = try runSpec("""
            model cnn channels=4
            epochs 2
            batch_size 1
            sweep lr 1e30 0.01
            """)
        XCTAssertEqual(table.rows.count, 2)
        guard table.rows.count == 2 else { return }
        let diverged = table.rows[0], ok = table.rows[1]
        XCTAssertEqual(table.value(diverged, "lr"), "1e+30")
        XCTAssertEqual(table.value(diverged, "status"), "diverged")
        let detail = table.value(diverged, "status_detail") ?? ""
        XCTAssertNotNil(detail.range(of: #"^non-finite loss at epoch [12] step [0-9]+$"#, options: .regularExpression), detail)
        // What was measured before and after is recorded: the evaluations still ran.
        XCTAssertEqual(table.value(diverged, "final_train_loss"), "nan")
        XCTAssertNotNil(table.number(diverged, "test_acc_eval_mode"))
        XCTAssertEqual(table.value(diverged, "lr_used"), "1.0000000150474662e+30")  // Float32(1e30) printed as a Double
        XCTAssertEqual(table.value(ok, "status"), "ok")
        XCTAssertEqual(table.value(ok, "status_detail"), "")
        XCTAssertNotNil(table.number(ok, "final_train_loss"))
    }

    /// BatchNorm1d in train mode over one sample has one value per channel: PyTorch raises
    /// "Expected more than 1 value per channel when training"; the cell is invalid, the next runs.
    func testMLPAtBatchSizeOneIsInvalidAndTheSweepGoesOn() throws {
        let table = try runSpec("""
            model mlp widths=16
            epochs 1
            sweep batch_size 1 2
            """)
        XCTAssertEqual(table.rows.map { table.value($0, "status") ?? "" }, ["invalid", "ok"])
        guard table.rows.count == 2 else { return }
        XCTAssertEqual(table.value(table.rows[0], "status_detail"),
                       "BatchNorm(16, momentum=0.1): Expected more than 1 value per channel when training, got input size (1, 16)")
        XCTAssertEqual(table.value(table.rows[0], "test_acc_eval_mode"), "", "nothing measured for an invalid cell")
        XCTAssertNotNil(table.number(table.rows[1], "test_acc_eval_mode"))
    }

    /// A trained cell whose batch-statistics passes meet a last batch of one sample (21 test
    /// images = 5 * 4 + 1 at the training batch size, 2 * 10 + 1 at the eval batch size): those
    /// measurements are left empty with the reason, the eval-mode accuracy is kept.
    func testARefusedMeasurementIsLeftEmptyAndTheOthersKept() throws {
        let table = try runSpec("""
            model mlp widths=16
            epochs 1
            batch_size 4
            """, testSplit: 21, evalBatchSize: 10)
        guard let row = table.rows.first else { return XCTFail("no row") }
        XCTAssertEqual(table.value(row, "status"), "ok")
        let refusal = "BatchNorm(16, momentum=0.1): Expected more than 1 value per channel when training, got input size (1, 16)"
        XCTAssertEqual(table.value(row, "status_detail"),
                       "test_acc_train_mode not measured: \(refusal); test_acc_batch_stats not measured: \(refusal)")
        XCTAssertEqual(table.value(row, "test_acc_train_mode"), "")
        XCTAssertEqual(table.value(row, "test_acc_batch_stats"), "")
        XCTAssertNotNil(table.number(row, "test_acc_eval_mode"))
        XCTAssertNotNil(table.number(row, "test_acc_recalibrated"), "40 = 2 * 20: no batch of one")
    }
}
