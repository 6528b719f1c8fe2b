import Foundation
import Charts
import Experiment
import SpecFormat
import XCTest

/// `kill -9` of the real binary at several moments, then a re-run: it resumes without
/// recomputing the journaled cells and ends with the tables of an uninterrupted run.
final class ResumeAfterKillTests: XCTestCase {
    /// How many SIGKILL-and-resume cycles the test must achieve.
    static let requiredKills = 3

    func testKillResumeCyclesEndWithTheTablesOfAnUninterruptedRun() throws {
        let reference = try TinySweep.reference(epochs: TinySweep.interruptibleEpochs)
        let directory = try scratchDirectory(for: self)
        let spec = try TinySweep.write(in: directory, epochs: TinySweep.interruptibleEpochs)
        let journal = TinySweep.journal(directory, out: "out")
        let run = ["run", spec, "--out", "out", "--jobs", "1", "--quiet"]
        // Kill at once when a new record appears, or a little later (inside the next cell,
        // or while its line is written): the moments vary, the outcome must not.
        let delays: [useconds_t] = [0, 13_000, 29_000, 3_000, 41_000]
        var kills = 0
        for cycle in 0..<delays.count {
            let before = journalRecordCount(journal)
            guard before < TinySweep.cellCount - 1 else { break }  // leave at least one cell for the final run
            let child = try BNLabChild(run, in: directory)
            let progressed = waitUntil(seconds: 120) { journalRecordCount(journal) > before || !child.isRunning }
            XCTAssertTrue(progressed, "cycle \(cycle): no new journal record within 120 s")
            usleep(delays[cycle])
            let killed = child.isRunning
            if killed { child.send(SIGKILL) }
            let outcome = child.wait()
            if before > 0 {
                XCTAssertTrue(outcome.standardError.contains("resuming, \(before) of \(TinySweep.cellCount) cells already done"),
                              "cycle \(cycle): \(outcome.standardError)")
            }
            guard killed, outcome.signaled else { break }  // it finished first: no more cycles to run
            XCTAssertEqual(outcome.status, SIGKILL)
            kills += 1
            // The journal always reads back: a torn last line is dropped, never an error.
            let after = try XCTUnwrap(try Journal.read(path: journal))
            XCTAssertGreaterThan(after.records.count, before, "cycle \(cycle)")
            XCTAssertEqual(Set(after.records.map(\.key)).count, after.records.count, "each cell journaled once")
            XCTAssertEqual(after.records.map(\.index), Array(0..<after.records.count), "--jobs 1 runs in grid order")
            // Killed after the last cell was journaled (while the tables were written): a valid
            // kill, but no cell is left for another cycle.
            if after.records.count == TinySweep.cellCount { break }
        }
        print("ResumeAfterKillTests: \(kills) kill/resume cycles")
        XCTAssertGreaterThanOrEqual(kills, Self.requiredKills, "too few kills landed before the run finished")

        let journaled = journalRecordCount(journal)
        let final = try BNLabChild.run(run, in: directory)
        XCTAssertEqual(final.status, 0, final.standardError)
        XCTAssertTrue(final.standardError.contains("resuming, \(journaled) of \(TinySweep.cellCount) cells already done"),
                      final.standardError)
        assertSameTables(TinySweep.tables(in: directory.appendingPathComponent("out")), reference,
                         "after \(kills) kills and resumes")
        let records = try XCTUnwrap(try Journal.read(path: journal)).records
        XCTAssertEqual(records.map(\.index), Array(0..<TinySweep.cellCount), "every cell once, none recomputed")
    }
}
