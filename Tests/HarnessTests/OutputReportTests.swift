import Harness
import XCTest

/// `Report.markdown` on the summary of `SampleRecords` (means and stds in OutputResultTablesTests).
final class OutputReportTests: XCTestCase {
    static let specText = "# tiny: a test spec\n# second line of the description\n\nsweep batch_size 2 4\nseeds 0 1\n"

    var summary: Table!
    var report = ""

    override func setUp() {
        let tables = SampleRecords.tables
        summary = Table(csv: tables.summary)
        report = Report.markdown(spec: "tiny", specPath: "Experiments/tiny.spec", specText: Self.specText, sweptSettings: ["batch_size"], summary: summary,
                                 statistics: Table(csv: tables.statistics), charts: ["tiny-accuracy.svg"],
                                 warnings: ["tiny.spec:4:1: warning: something"])
    }

    func section(_ heading: String) -> String {
        let parts = report.components(separatedBy: "## " + heading + "\n\n")
        guard parts.count == 2 else { return "" }
        return parts[1].components(separatedBy: "\n## ")[0]
    }

    func testHeaderDescriptionWarningsChartsAndSpec() {
        XCTAssertTrue(report.hasPrefix("# tiny\n\ntiny: a test spec\nsecond line of the description\n\n"), report)
        XCTAssertTrue(report.contains("> warning: tiny.spec:4:1: warning: something\n"))
        XCTAssertTrue(report.contains("![tiny-accuracy.svg](tiny-accuracy.svg)\n"))
        XCTAssertTrue(report.hasSuffix("## Spec\n\n```\n" + Self.specText + "```\n"))
    }

    /// Means to one decimal from the summary (86.00 -> 86.0 ...), the train - eval gap
    /// (86 - 55 = 31.0; 58 - 59.5 = -1.5), at the smallest and largest batch size, and the
    /// seeds that failed.
    func testFindingsQuoteTheSummary() {
        XCTAssertEqual(section("What the numbers show"),
                       "- at batch_size 2, test accuracy: train mode 86.0%, eval mode 55.0%, recalibrated 71.0%, "
                       + "batch statistics at the eval batch size 62.0%, train mode minus eval mode 31.0 points; "
                       + "at batch_size 4, test accuracy: train mode 58.0%, eval mode 59.5%, recalibrated 62.5%, "
                       + "batch statistics at the eval batch size 54.0%, train mode minus eval mode -1.5 points (only 1 of 2 seeds ok).\n")
    }

    /// Every number in the report's summary table is a field of the summary CSV, verbatim.
    func testSummaryTableQuotesTheCSVFields() {
        let table = section("Summary")
        let lines = table.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4, table)  // header, delimiter, two cells
        XCTAssertTrue(lines[0].contains("test, eval mode"), lines[0])
        XCTAssertFalse(lines[0].contains("MC-dropout"), "unmeasured columns are not shown")
        let fields = Set(summary.rows.flatMap { $0 })
        var quoted = 0
        for line in lines.dropFirst(2) {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            for cell in cells {
                for token in cell.components(separatedBy: CharacterSet(charactersIn: " ±/")) where Double(token) != nil {
                    XCTAssertTrue(fields.contains(token), "\(token) in '\(line)' is not a summary field")
                    quoted += 1
                }
            }
        }
        XCTAssertGreaterThan(quoted, 20)
        XCTAssertTrue(table.contains("55.00 ± 7.07"))
        XCTAssertTrue(table.contains("67.50 ± 38.89"))
        XCTAssertTrue(table.contains(" 1/2 |") && table.contains(" 2/2 |"), table)
    }

    func testNoFinishedCells() {
        let empty = Table(header: summary.header, rows: [])
        let text = Report.markdown(spec: "none", specPath: "none.spec", specText: "", sweptSettings: ["batch_size"], summary: empty,
                                   statistics: Table(header: [], rows: []), charts: [])
        XCTAssertTrue(text.contains("## What the numbers show\n\nNo cells finished.\n"), text)
    }
}
