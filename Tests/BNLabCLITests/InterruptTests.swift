import Foundation
import Charts
import Experiment
import Reports
import SpecFormat
import XCTest

/// SIGINT / SIGTERM: the cell in flight finishes, the tables of what is done are written,
/// the exit status is 1 and the message says how to resume; a re-run finishes the rest.
final class InterruptTests: XCTestCase {
    func testSIGINTFinishesTheCellInFlightWritesTheTablesAndExitsOne() throws {
        let reference = try TinySweep.reference(epochs: TinySweep.interruptibleEpochs)
        let directory = try scratchDirectory(for: self)
        let spec = try TinySweep.write(in: directory, epochs: TinySweep.interruptibleEpochs)
        let journal = TinySweep.journal(directory, out: "out")
        let out = directory.appendingPathComponent("out")

        let child = try BNLabChild(["run", spec, "--out", "out", "--jobs", "1"], in: directory)
        XCTAssertTrue(waitUntil(seconds: 120) { journalRecordCount(journal) >= 1 || !child.isRunning })
        let journaledAtSignal = journalRecordCount(journal)
        child.send(SIGINT)
        let outcome = child.wait()
        XCTAssertFalse(outcome.signaled, "the process must exit by itself")
        XCTAssertEqual(outcome.status, 1, outcome.standardError)
        let done = journalRecordCount(journal)
        XCTAssertGreaterThanOrEqual(done, journaledAtSignal)
        XCTAssertLessThan(done, TinySweep.cellCount, "interrupted too late to test anything")
        XCTAssertTrue(outcome.standardError.contains("bnlab: stopping after the cells in flight"), outcome.standardError)
        let lastLine = outcome.standardError.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertEqual(lastLine, "bnlab: interrupted: tiny: \(done) of 12 cells done and journaled in out/.journal/tiny.journal;"
                       + " the tables hold them. To resume, run the same command again: bnlab run tiny.spec --jobs 1 --out out")
        // The progress lines report exactly the journaled cells: the one in flight finished.
        XCTAssertEqual(outcome.standardError.components(separatedBy: "/12] tiny ").count - 1, done)

        // The tables hold the done cells: with --jobs 1 the first `done` rows of the full run's.
        let partial = TinySweep.tables(in: out)
        let expectedRows = reference["tiny.csv"]!.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(partial["tiny.csv"], (expectedRows.prefix(1 + done) + [""]).joined(separator: "\n"))
        XCTAssertEqual(Table(csv: partial["tiny-bnstats.csv"] ?? "").rows.count, done, "one BatchNorm layer per cell")
        XCTAssertNotNil(partial["tiny-summary.csv"])

        let status = try BNLabChild.run(["status", spec, "--out", "out"], in: directory)
        XCTAssertEqual(status.status, 0)
        XCTAssertEqual(status.standardOutput, "tiny: \(done)/12 cells done\n")

        let again = try BNLabChild.run(["run", spec, "--out", "out", "--jobs", "1", "--quiet"], in: directory)
        XCTAssertEqual(again.status, 0, again.standardError)
        XCTAssertEqual(again.standardError, "bnlab: tiny: resuming, \(done) of 12 cells already done\n")
        assertSameTables(TinySweep.tables(in: out), reference, "after SIGINT and resume")
        XCTAssertEqual(try BNLabChild.run(["status", spec, "--out", "out"], in: directory).standardOutput,
                       "tiny: 12/12 cells done\n")
    }

    func testSIGTERMStopsCleanlyToo() throws {
        let directory = try scratchDirectory(for: self)
        let spec = try TinySweep.write(in: directory, epochs: TinySweep.interruptibleEpochs)
        let journal = TinySweep.journal(directory, out: "out")
        let child = try BNLabChild(["run", spec, "--out", "out", "--jobs", "2", "--quiet"], in: directory)
        XCTAssertTrue(waitUntil(seconds: 120) { journalRecordCount(journal) >= 1 || !child.isRunning })
        child.send(SIGTERM)
        let outcome = child.wait()
        XCTAssertFalse(outcome.signaled)
        XCTAssertEqual(outcome.status, 1, outcome.standardError)
        XCTAssertTrue(outcome.standardError.contains("To resume, run the same command again: bnlab run tiny.spec --jobs 2 --out out"),
                      outcome.standardError)
        let done = journalRecordCount(journal)
        XCTAssertEqual(Table(csv: TinySweep.tables(in: directory.appendingPathComponent("out"))["tiny.csv"] ?? "").rows.count,
                       done, "the tables hold every journaled cell, both cells in flight included")
    }
}
