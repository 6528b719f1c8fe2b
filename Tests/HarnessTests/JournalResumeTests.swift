import Foundation
import XCTest
@testable import Charts
@testable import Datasets
@testable import Experiment
@testable import Reports

/// Opening a run's journal: resume, start over on a changed spec, `--fresh`.
final class JournalResumeTests: DataFileTestCase {
    private var path: String { directory.appendingPathComponent(".journal/spec.journal").path }
    private let hashA = "1111111111111111", hashB = "2222222222222222"

    func testNoJournalStartsOneWithItsHeader() throws {
        let resumed = try JournalResume.open(path: path, specName: "spec", hash: hashA, fresh: false)
        XCTAssertEqual(resumed.records, [])
        XCTAssertEqual(resumed.droppedLines, 0)
        XCTAssertNil(resumed.movedAside)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "bnlab-journal v1 spec=spec hash=\(hashA)\n")
    }

    func testSameHashResumesWithTheRecordsAndAppendsAfterThem() throws {
        let first = try JournalResume.open(path: path, specName: "spec", hash: hashA, fresh: false)
        for i in 0..<3 { try first.journal.append(journalRecord(i)) }
        let second = try JournalResume.open(path: path, specName: "spec", hash: hashA, fresh: false)
        XCTAssertEqual(second.records, (0..<3).map(journalRecord))
        try second.journal.append(journalRecord(3))
        XCTAssertEqual(try Journal.read(path: path)?.records, (0..<4).map(journalRecord))
    }

    func testChangedSpecHashMovesTheOldJournalAsideAndStartsOver() throws {
        let old = try JournalResume.open(path: path, specName: "spec", hash: hashA, fresh: false)
        for i in 0..<2 { try old.journal.append(journalRecord(i)) }
        let oldText = try String(contentsOfFile: path, encoding: .utf8)

        let changed = try JournalResume.open(path: path, specName: "spec", hash: hashB, fresh: false)
        XCTAssertEqual(changed.records, [], "results of two versions of a spec never mix")
        XCTAssertEqual(changed.movedAside, path + ".stale-" + hashA)
        XCTAssertEqual(try String(contentsOfFile: path + ".stale-" + hashA, encoding: .utf8), oldText)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "bnlab-journal v1 spec=spec hash=\(hashB)\n")
    }

    func testFreshEmptiesTheJournal() throws {
        let old = try JournalResume.open(path: path, specName: "spec", hash: hashA, fresh: false)
        try old.journal.append(journalRecord(0))
        let fresh = try JournalResume.open(path: path, specName: "spec", hash: hashA, fresh: true)
        XCTAssertEqual(fresh.records, [])
        XCTAssertNil(fresh.movedAside)
        XCTAssertEqual(try Journal.read(path: path)?.records, [])
    }

    func testARepeatedCellKeyIsKeptOnceTheFirst() throws {
        var later = journalRecord(1)
        later.wallSeconds = "99.00"
        try AtomicFile.write(try Journal.text(specName: "spec", hash: hashA, records: [journalRecord(0), journalRecord(1), later]),
                             to: path)
        let resumed = try JournalResume.open(path: path, specName: "spec", hash: hashA, fresh: false)
        XCTAssertEqual(resumed.records, [journalRecord(0), journalRecord(1)])
    }
}
