import Foundation
import Charts
import Datasets
import Experiment
import Reports
import SpecFormat
import XCTest

/// `bnlab status`, `--fresh`, and what a changed spec does to its journal.
final class StatusFreshTests: XCTestCase {
    /// Two cells of a very small run (about 0.1 s in a debug build).
    static let spec = """
        dataset shapes size=12 noise=0.25
        train_split 24
        test_split 12
        model cnn channels=4
        epochs 1
        eval_batch_size 12
        recalibrate_batch_size 12
        sweep batch_size 2 4

        """

    private func specDirectory(_ text: String = spec) throws -> URL {
        let directory = try scratchDirectory(for: self)
        try text.write(to: directory.appendingPathComponent("small.spec"), atomically: true, encoding: .utf8)
        return directory
    }

    private func status(_ directory: URL) throws -> String {
        let outcome = try BNLabChild.run(["status", "small.spec", "--out", "out"], in: directory)
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        return outcome.standardOutput
    }

    func testStatusCountsDoneCellsAndFreshStartsOver() throws {
        let directory = try specDirectory()
        XCTAssertEqual(try status(directory), "small: 0/2 cells done (no journal in out)\n")
        let first = try BNLabChild.run(["run", "small.spec", "--out", "out"], in: directory)
        XCTAssertEqual(first.status, 0, first.standardError)
        XCTAssertEqual(first.standardError.components(separatedBy: "/2] small ").count - 1, 2, "two cells trained")
        XCTAssertEqual(try status(directory), "small: 2/2 cells done\n")
        let tables = try String(contentsOf: directory.appendingPathComponent("out/small-summary.csv"), encoding: .utf8)

        // Without --fresh nothing is trained again.
        let again = try BNLabChild.run(["run", "small.spec", "--out", "out"], in: directory)
        XCTAssertEqual(again.status, 0)
        XCTAssertEqual(again.standardError, "bnlab: small: resuming, 2 of 2 cells already done\n")

        // --fresh trains every cell again, to the same numbers.
        let fresh = try BNLabChild.run(["run", "small.spec", "--out", "out", "--fresh"], in: directory)
        XCTAssertEqual(fresh.status, 0, fresh.standardError)
        XCTAssertFalse(fresh.standardError.contains("resuming"), fresh.standardError)
        XCTAssertEqual(fresh.standardError.components(separatedBy: "/2] small ").count - 1, 2, "two cells trained again")
        XCTAssertEqual(journalRecordCount(directory.appendingPathComponent("out/.journal/small.journal").path), 2)
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("out/small-summary.csv"), encoding: .utf8), tables)
        XCTAssertEqual(try status(directory), "small: 2/2 cells done\n")
    }

    func testAChangedSpecMovesTheOldJournalAsideAndStartsOver() throws {
        let directory = try specDirectory()
        XCTAssertEqual(try BNLabChild.run(["run", "small.spec", "--out", "out", "--quiet"], in: directory).status, 0)
        let journal = directory.appendingPathComponent("out/.journal/small.journal").path
        let oldHash = try XCTUnwrap(try Journal.read(path: journal)).hash

        let changed = Self.spec.replacingOccurrences(of: "epochs 1", with: "epochs 2")
        try changed.write(to: directory.appendingPathComponent("small.spec"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try status(directory),
                       "small: 0/2 cells done (its journal is from another version of the spec; the next run starts over)\n")
        let rerun = try BNLabChild.run(["run", "small.spec", "--out", "out", "--quiet"], in: directory)
        XCTAssertEqual(rerun.status, 0, rerun.standardError)
        XCTAssertEqual(rerun.standardError, "bnlab: small: the spec changed since its journal was written; starting over"
                       + " (old journal kept as out/.journal/small.journal.stale-\(oldHash))\n")
        XCTAssertEqual(journalRecordCount(journal + ".stale-\(oldHash)"), 2, "the old results are kept aside")
        let new = try XCTUnwrap(try Journal.read(path: journal))
        XCTAssertEqual(new.hash, try Spec.parse(text: changed, path: "small.spec").resolvedHash)
        XCTAssertEqual(new.records.count, 2)
        let table = Table(csv: try String(contentsOf: directory.appendingPathComponent("out/small.csv"), encoding: .utf8))
        XCTAssertEqual(table.rows.map { table.value($0, "epochs") ?? "" }, ["2", "2"], "only the new spec's cells")
    }

    /// The journal's hash does not depend on how the spec's path is spelt, even with a dataset path
    /// relative to the spec: `sub/x.spec` and `./sub/x.spec` resume each other's runs.
    func testResumeDoesNotDependOnTheSpellingOfTheSpecPath() throws {
        let directory = try scratchDirectory(for: self)
        let sub = directory.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try Data(BadInputTests.csv(rows: 30)).write(to: sub.appendingPathComponent("data.csv"))
        try String(decoding: BadInputTests.csvSpec("data.csv"), as: UTF8.self)
            .write(to: sub.appendingPathComponent("x.spec"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try BNLabChild.run(["run", "sub/x.spec", "--out", "out", "--quiet"], in: directory).status, 0)
        let again = try BNLabChild.run(["run", "./sub/x.spec", "--out", "out", "--quiet"], in: directory)
        XCTAssertEqual(again.status, 0)
        XCTAssertEqual(again.standardError, "bnlab: x: resuming, 1 of 1 cells already done\n")
    }
}
