import Experiment
import Foundation
import Reports
import XCTest

/// The metric table is the one declaration of the measured columns: the tables, the column
/// dictionary and the charts follow it.
final class MetricTableTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Results/README.md's dictionary of `<spec>.csv` has one row per metric, in the table's order,
    /// whose text is the metric's `meaning`.
    func testResultsReadmeDescribesEveryMetricAsDeclared() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("Results/README.md"), encoding: .utf8)
        let rows = readme.split(separator: "\n").filter { $0.hasPrefix("| `") }.map(String.init)
        let described = rows.compactMap { row -> String? in
            let name = row.dropFirst(3).prefix { $0 != "`" }
            return Metric.named(String(name)) != nil ? row : nil
        }
        XCTAssertEqual(described, Metric.all.map { "| `\($0.name)` | \($0.meaning) |" })
    }

    /// The summary's paired differences are described there too, from their declaration.
    func testResultsReadmeDescribesEveryPairedDifference() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("Results/README.md"), encoding: .utf8)
        for d in PairedDifference.all {
            XCTAssertTrue(readme.contains("| `\(d.name)` | \(d.meaning) |\n"), d.name)
        }
    }

    func testColumnNamesAreUniqueAndTheRecordFollowsTheTable() {
        XCTAssertEqual(Set(Metric.all.map(\.name)).count, Metric.all.count)
        XCTAssertEqual(CellRecord.metricColumns, ["status", "status_detail"] + Metric.all.map(\.name))
        XCTAssertEqual(Summary.header(settingNames: ["batch_size"]).filter { $0.hasSuffix("_ci95") },
                       Metric.all.filter(\.summarized).map { $0.name + "_ci95" } + PairedDifference.all.map { $0.name + "_ci95" })
    }

    /// A measured value is written with its metric's decimals; an unmeasured one stays empty.
    func testRecordFormatsEachMetricWithItsDecimals() {
        var m = CellMeasurements()
        m[.testAccEvalMode] = 91.23456
        m[.finalTrainLoss] = 0.123456
        m[.recalibrationSamples] = 3000
        let record = CellRecord(index: 0, key: "seed=0", settings: [], seed: 0, measurements: m)
        XCTAssertEqual(record.metric("test_acc_eval_mode"), "91.23")
        XCTAssertEqual(record.metric("final_train_loss"), "0.1235")
        XCTAssertEqual(record.metric("recalibration_samples"), "3000")
        XCTAssertEqual(record.metric("test_acc_mc_dropout"), "")
    }

    /// A summary read back from its CSV is the summary that wrote it.
    func testSummaryRoundTripsThroughItsCSV() throws {
        let summary = SampleRecords.tables.summaryValues
        XCTAssertEqual(try Summary(csv: summary.csv(spec: "tiny")), summary)
        XCTAssertThrowsError(try Summary(csv: "spec,batch_size\ntiny,2\n"))
    }
}
