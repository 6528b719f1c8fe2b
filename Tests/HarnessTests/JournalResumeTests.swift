import Foundation
import XCTest
@testable import Charts
@testable import Datasets
@testable import Experiment
@testable import Reports

/// Opening a run's journal: resume, start over on a changed spec or another build, `--fresh`, `--keep-stale`.
final class JournalResumeTests: DataFileTestCase {
    private var path: String { directory.appendingPathComponent(".journal/spec.journal").path }
    private let hashA = "1111111111111111", hashB = "2222222222222222"
    /// This build, and the one before it.
    private let build = "aaaaaaaaaaaaaaaa", oldBuild = "bbbbbbbbbbbbbbbb"

    func testNoJournalStartsOneWithItsHeader() throws {
        let resumed = try JournalResume.open(path: path, specName: "spec", hash: hashA, build: build, fresh: false)
        XCTAssertEqual(resumed.records, [])
        XCTAssertEqual(resumed.droppedLines, 0)
        XCTAssertNil(resumed.movedAside)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "bnlab-journal v1 spec=spec hash=\(hashA) build=\(build)\n")
    }

    func testSameHashResumesWithTheRecordsAndAppendsAfterThem() throws {
        let first = try JournalResume.open(path: path, specName: "spec", hash: hashA, build: build, fresh: false)
        for i in 0..<3 { try first.journal.append(journalRecord(i)) }
        let second = try JournalResume.open(path: path, specName: "spec", hash: hashA, build: build, fresh: false)
        XCTAssertEqual(second.records, (0..<3).map(journalRecord))
        try second.journal.append(journalRecord(3))
        XCTAssertEqual(try Journal.read(path: path)?.records, (0..<4).map(journalRecord))
    }

    func testChangedSpecHashMovesTheOldJournalAsideAndStartsOver() throws {
        let old = try JournalResume.open(path: path, specName: "spec", hash: hashA, build: build, fresh: false)
        for i in 0..<2 { try old.journal.append(journalRecord(i)) }
        let oldText = try String(contentsOfFile: path, encoding: .utf8)

        let changed = try JournalResume.open(path: path, specName: "spec", hash: hashB, build: build, fresh: false)
        XCTAssertEqual(changed.records, [], "results of two versions of a spec never mix")
        XCTAssertEqual(changed.staleness, .specChanged(movedAside: path + ".stale-" + hashA))
        XCTAssertEqual(changed.movedAside, path + ".stale-" + hashA)
        XCTAssertEqual(try String(contentsOfFile: path + ".stale-" + hashA, encoding: .utf8), oldText)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "bnlab-journal v1 spec=spec hash=\(hashB) build=\(build)\n")
    }

    func testFreshEmptiesTheJournal() throws {
        let old = try JournalResume.open(path: path, specName: "spec", hash: hashA, build: build, fresh: false)
        try old.journal.append(journalRecord(0))
        let fresh = try JournalResume.open(path: path, specName: "spec", hash: hashA, build: build, fresh: true)
        XCTAssertEqual(fresh.records, [])
        XCTAssertNil(fresh.movedAside)
        XCTAssertEqual(try Journal.read(path: path)?.records, [])
    }

    func testARepeatedCellKeyIsKeptOnceTheFirst() throws {
        var later = journalRecord(1)
        later.wallSeconds = "99.00"
        try AtomicFile.write(try Journal.text(specName: "spec", hash: hashA, build: build, records: [journalRecord(0), journalRecord(1), later]),
                             to: path)
        let resumed = try JournalResume.open(path: path, specName: "spec", hash: hashA, build: build, fresh: false)
        XCTAssertEqual(resumed.records, [journalRecord(0), journalRecord(1)])
    }

    /// Two journals of spec A by build `oldBuild` (two records): one written now, one as a bnlab from
    /// before build identities wrote it (a header without `build=`).
    private func writeOldBuildJournal(recorded: Bool) throws -> String {
        let text = try Journal.text(specName: "spec", hash: hashA, build: oldBuild, records: [journalRecord(0), journalRecord(1)])
        let written = recorded ? text : text.replacingOccurrences(of: " build=\(oldBuild)", with: "")
        try AtomicFile.write(written, to: path)
        return written
    }

    /// A journal of the same spec written by another build is never resumed by default: moved aside to
    /// `.stale-build-<its build>` (`unrecorded` for a header without one), and a new journal is started.
    func testAnotherBuildsJournalIsMovedAsideAndTheRunStartsOver() throws {
        for recorded in [true, false] {
            let oldText = try writeOldBuildJournal(recorded: recorded)
            let stale = path + (recorded ? ".stale-build-\(oldBuild)" : ".stale-build-unrecorded")
            let resumed = try JournalResume.open(path: path, specName: "spec", hash: hashA, build: build, fresh: false)
            XCTAssertEqual(resumed.records, [], "cells of two builds never mix")
            XCTAssertEqual(resumed.staleness, .otherBuild(recorded ? oldBuild : "", movedAside: stale))
            XCTAssertEqual(resumed.movedAside, stale)
            XCTAssertEqual(try String(contentsOfFile: stale, encoding: .utf8), oldText)
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "bnlab-journal v1 spec=spec hash=\(hashA) build=\(build)\n")
        }
    }

    /// `keepStale`: the other build's cells are resumed, byte for byte, under a header that now names this
    /// build, so the next run resumes them without being asked; new cells are appended after them.
    func testKeepStaleResumesAnotherBuildsJournalUnderThisBuild() throws {
        for recorded in [true, false] {
            let oldText = try writeOldBuildJournal(recorded: recorded)
            let resumed = try JournalResume.open(path: path, specName: "spec", hash: hashA, build: build, fresh: false,
                                                 keepStale: true)
            XCTAssertEqual(resumed.records, [journalRecord(0), journalRecord(1)])
            XCTAssertEqual(resumed.staleness, .otherBuildKept(recorded ? oldBuild : ""))
            XCTAssertNil(resumed.movedAside)
            try resumed.journal.append(journalRecord(2))
            let records = oldText.split(separator: "\n", maxSplits: 1)[1]
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8),
                           "bnlab-journal v1 spec=spec hash=\(hashA) build=\(build)\n" + records
                           + (try Journal.line(for: journalRecord(2))) + "\n")
            let next = try JournalResume.open(path: path, specName: "spec", hash: hashA, build: build, fresh: false)
            XCTAssertNil(next.staleness)
            XCTAssertEqual(next.records, (0..<3).map(journalRecord))
        }
    }

    /// `keepStale` cannot keep another build's records whose measured columns differ in number from this
    /// build's (their values would land in the wrong columns): the journal is moved aside as without it.
    func testKeepStaleDoesNotKeepRecordsWithOtherColumns() throws {
        var short = journalRecord(0)
        short.metrics.removeLast()
        try AtomicFile.write(try Journal.text(specName: "spec", hash: hashA, build: oldBuild, records: [short]), to: path)
        let resumed = try JournalResume.open(path: path, specName: "spec", hash: hashA, build: build, fresh: false,
                                             keepStale: true)
        XCTAssertEqual(resumed.records, [])
        XCTAssertEqual(resumed.staleness, .otherBuild(oldBuild, movedAside: path + ".stale-build-\(oldBuild)"))
    }

    /// `keepStale` keeps another build's cells of the same spec only: a changed spec still starts over.
    func testKeepStaleDoesNotKeepAnotherSpecsCells() throws {
        _ = try writeOldBuildJournal(recorded: true)
        let resumed = try JournalResume.open(path: path, specName: "spec", hash: hashB, build: build, fresh: false,
                                             keepStale: true)
        XCTAssertEqual(resumed.records, [])
        XCTAssertEqual(resumed.staleness, .specChanged(movedAside: path + ".stale-" + hashA))
    }

    /// A torn tail behind another build's records is dropped when `keepStale` rewrites the header.
    func testKeepStaleDropsATornTail() throws {
        let oldText = try writeOldBuildJournal(recorded: true)
        let torn = String((try Journal.line(for: journalRecord(2))).prefix(30))
        try AtomicFile.write(oldText + torn, to: path)
        let resumed = try JournalResume.open(path: path, specName: "spec", hash: hashA, build: build, fresh: false,
                                             keepStale: true)
        XCTAssertEqual(resumed.records, [journalRecord(0), journalRecord(1)])
        XCTAssertEqual(resumed.droppedLines, 1)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8),
                       try Journal.text(specName: "spec", hash: hashA, build: build, records: [journalRecord(0), journalRecord(1)]))
    }
}
