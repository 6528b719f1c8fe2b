import Foundation
import XCTest

/// What the outputs say about where they came from is true: a report names the spec's path as the
/// command line gave it and quotes the provenance its run recorded, `bnlab new --dir D` writes a
/// template whose run line names D, and a table of a spec without jitter leaves `jitter_apply` empty
/// (there is nothing for it to apply to).
final class OutputPathsTests: XCTestCase {
    static let spec = "# tiny-paths: a one-cell spec outside Experiments/\n" + OneCellSpec.settings

    /// The line of `text` that starts with `prefix`, or nil.
    func line(_ text: String, startingWith prefix: String) -> String? {
        text.split(separator: "\n").map(String.init).first { $0.hasPrefix(prefix) }
    }

    func testTheReportNamesTheSpecPathAsTyped() throws {
        let directory = try scratchDirectory(for: self)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("specs"), withIntermediateDirectories: true)
        try Self.spec.write(to: directory.appendingPathComponent("specs/tiny-paths.spec"), atomically: true, encoding: .utf8)
        let run = try BNLabChild.run(["run", "specs/tiny-paths.spec", "--out", "out", "--quiet"], in: directory)
        XCTAssertEqual(run.status, 0, run.standardError)
        let report = try String(contentsOf: directory.appendingPathComponent("out/tiny-paths.md"), encoding: .utf8)
        XCTAssertEqual(line(report, startingWith: "Written by"),
                       "Written by `bnlab run specs/tiny-paths.spec`; the tables are [`tiny-paths.csv`](tiny-paths.csv),"
                       + " [`tiny-paths-summary.csv`](tiny-paths-summary.csv) and"
                       + " [`tiny-paths-bnstats.csv`](tiny-paths-bnstats.csv). Accuracies in %, mean ± the half-width"
                       + " of its 95% confidence interval over seeds (Student t; the summary CSV also has the standard"
                       + " deviation). A paired difference is taken per seed between two measures of the same model,"
                       + " so its interval is the one to read for a gap.")
        // bnlab report rewrites it from the tables with the same sentence.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("out/tiny-paths.md"))
        let rebuilt = try BNLabChild.run(["report", "specs/tiny-paths.spec", "--out", "out"], in: directory)
        XCTAssertEqual(rebuilt.status, 0, rebuilt.standardError)
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("out/tiny-paths.md"), encoding: .utf8), report)
        // The provenance paragraph comes from tiny-paths-provenance.csv, what the run recorded: without it (tables
        // from before bnlab recorded provenance) the report has none, rather than this machine's.
        let provenance = try XCTUnwrap(report.split(separator: "\n").first { $0.hasPrefix("Computed by bnlab ") })
        try FileManager.default.removeItem(at: directory.appendingPathComponent("out/tiny-paths-provenance.csv"))
        XCTAssertEqual(try BNLabChild.run(["report", "specs/tiny-paths.spec", "--out", "out"], in: directory).status, 0)
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("out/tiny-paths.md"), encoding: .utf8),
                       report.replacingOccurrences(of: provenance + "\n\n", with: ""))
    }

    func testNewWritesARunLineWithItsDirectory() throws {
        let directory = try scratchDirectory(for: self)
        let made = try BNLabChild.run(["new", "probe", "--dir", "mine/specs"], in: directory)
        XCTAssertEqual(made.status, 0, made.standardError)
        XCTAssertEqual(made.standardOutput, "mine/specs/probe.spec\n")
        let text = try String(contentsOf: directory.appendingPathComponent("mine/specs/probe.spec"), encoding: .utf8)
        XCTAssertEqual(line(text, startingWith: "# Run it with"), "# Run it with: bnlab run mine/specs/probe.spec")
        let check = try BNLabChild.run(["check", "mine/specs/probe.spec"], in: directory)
        XCTAssertEqual(check.status, 0, check.standardError)

        try FileManager.default.createDirectory(at: directory.appendingPathComponent("Experiments"), withIntermediateDirectories: true)
        XCTAssertEqual(try BNLabChild.run(["new", "probe"], in: directory).status, 0)
        let shipped = try String(contentsOf: directory.appendingPathComponent("Experiments/probe.spec"), encoding: .utf8)
        XCTAssertEqual(line(shipped, startingWith: "# Run it with"),
                       "# Run it with: bnlab run Experiments/probe.spec   (or: make experiments)")
    }

    /// `jitter_apply` names the splits a jitter applies to; without a jitter its column is empty, as
    /// the relevance rules say (setting it is an error then), and with one it shows its value.
    func testJitterApplyIsEmptyWithoutAJitter() throws {
        let directory = try scratchDirectory(for: self)
        try Self.spec.write(to: directory.appendingPathComponent("plain.spec"), atomically: true, encoding: .utf8)
        try (Self.spec + "jitter gain=0.5:2\n").write(to: directory.appendingPathComponent("jittered.spec"),
                                                       atomically: true, encoding: .utf8)
        let run = try BNLabChild.run(["run", "plain.spec", "jittered.spec", "--out", "out", "--quiet"], in: directory)
        XCTAssertEqual(run.status, 0, run.standardError)
        for (name, value) in [("plain", ""), ("jittered", "both")] {
            for table in ["\(name).csv", "\(name)-summary.csv", "\(name)-bnstats.csv"] {
                let rows = try String(contentsOf: directory.appendingPathComponent("out/\(table)"), encoding: .utf8)
                    .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
                XCTAssertEqual(rows[0][1], "jitter_apply", table)
                XCTAssertEqual(rows.dropFirst().map { $0[1] }, Array(repeating: value, count: rows.count - 1), table)
            }
        }
    }
}
