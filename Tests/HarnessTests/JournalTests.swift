import Foundation
import XCTest
@testable import Charts
@testable import Datasets
@testable import Experiment
@testable import Reports
@testable import SpecFormat

/// A record whose every field depends on `index`, so records differ from each other.
func journalRecord(_ index: Int) -> CellRecord {
    var m = CellMeasurements()
    m.status = index % 3 == 2 ? .diverged(Divergence(epoch: 1, step: index)) : .ok
    m[.lrUsed] = 0.01 * Double(index + 1)
    m[.testOverlap] = 0
    m[.recalibrationSamples] = 0
    m[.testAccEvalMode] = Double(index) * 1.25
    m[.testAccTrainMode] = 50 + Double(index)
    m[.finalTrainLoss] = 1 / Double(index + 1)
    m.statisticsErrors = [StatisticsError(layerIndex: 0, layerName: "BatchNorm2d(4)", channels: 4,
                                          meanError: 0.5, varianceError: Double(index))]
    m.wallSeconds = Double(index) / 7
    return CellRecord(index: index, key: "batch_size=\(index) seed=0", settings: [["batch_size", String(index)]],
                      seed: 0, measurements: m)
}

/// The journal file: round trip, and what a kill can leave behind (torn or corrupt tails,
/// a torn header), and what must be refused (a file that is not a journal).
final class JournalTests: DataFileTestCase {
    private var path: String { directory.appendingPathComponent("j/spec.journal").path }
    /// The build that writes these journals (any 16 hex digits: the format does not interpret it).
    static let build = "0123456789abcdef"

    private func writeJournal(_ records: [CellRecord], hash: String = "00000000000000aa") throws {
        let journal = try Journal(path: path, specName: "spec", hash: hash, build: Self.build)
        for r in records { try journal.append(r) }
    }

    private func bytes() -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path) ?? Data()) }

    private func setBytes(_ bytes: [UInt8]) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func testRoundTripKeepsEveryRecordAndTheHeader() throws {
        let records = (0..<5).map(journalRecord)
        try writeJournal(records)
        let contents = try XCTUnwrap(try Journal.read(path: path))
        XCTAssertEqual(contents.records, records)
        XCTAssertEqual(contents.specName, "spec")
        XCTAssertEqual(contents.hash, "00000000000000aa")
        XCTAssertEqual(contents.build, Self.build)
        XCTAssertEqual(contents.droppedLines, 0)
        XCTAssertEqual(contents.validBytes, bytes().count)
        // The file is exactly the documented text: header, then JSON TAB checksum per record.
        XCTAssertEqual(String(decoding: bytes(), as: UTF8.self),
                       try Journal.text(specName: "spec", hash: "00000000000000aa", build: Self.build, records: records))
        let second = String(decoding: bytes(), as: UTF8.self).split(separator: "\n")[1]
        let parts = second.split(separator: "\t")
        XCTAssertEqual(parts.count, 2)
        XCTAssertEqual(String(parts[1]), Journal.checksum(String(parts[0])))
        XCTAssertNil(try Journal.read(path: path + ".absent"))
    }

    /// Seeds are UInt64 end to end: 2^64 - 1 is written as its digits and reads back, and a line that an
    /// earlier bnlab wrote (the seed then an Int; the text is the same) still decodes.
    func testSeedsAreUInt64AndLinesWithIntSeedsStillDecode() throws {
        var big = journalRecord(2)
        big.seed = .max
        let line = try Journal.line(for: big)
        XCTAssertTrue(line.hasPrefix(#"{"index":2,"key":"batch_size=2 seed=0","metrics":"#), line)
        XCTAssertTrue(line.contains(#""seed":18446744073709551615,"#), line)
        // The metric fields as the table has them (status, detail, then one per Metric.all entry).
        let metrics = big.metrics.map { "\"\($0)\"" }.joined(separator: ",")
        XCTAssertTrue(metrics.hasPrefix(#""diverged","non-finite loss at epoch 1 step 2","0.030000","#), metrics)
        let older = #"{"index":2,"key":"batch_size=2 seed=0","metrics":["# + metrics + #"],"seed":7,"#
            + #""settings":[["batch_size","2"]],"statistics":[["0","BatchNorm2d(4)","4","0.50000","2.00000","",""]],"#
            + #""wallSeconds":"0.29"}"#
        try setBytes(Array((Journal.header(specName: "spec", hash: "00000000000000aa", build: Self.build) + "\n" + line + "\n"
                            + older + "\t" + Journal.checksum(older) + "\n").utf8))
        let contents = try XCTUnwrap(try Journal.read(path: path))
        var seven = journalRecord(2)
        seven.seed = 7
        XCTAssertEqual(contents.records, [big, seven])
        XCTAssertEqual(contents.droppedLines, 0)
    }

    /// Line 1 names the build; a header that an earlier bnlab wrote, without `build=`, still reads, with
    /// an empty build (no build recorded: resuming treats it as another build's).
    func testHeaderNamesTheBuildAndOldHeadersWithoutOneStillRead() throws {
        XCTAssertEqual(Journal.header(specName: "spec", hash: "00000000000000aa", build: Self.build),
                       "bnlab-journal v1 spec=spec hash=00000000000000aa build=0123456789abcdef")
        let line = try Journal.line(for: journalRecord(0))
        try setBytes(Array(("bnlab-journal v1 spec=spec hash=00000000000000aa\n" + line + "\n").utf8))
        let contents = try XCTUnwrap(try Journal.read(path: path))
        XCTAssertTrue(contents.hasHeader)
        XCTAssertEqual(contents.hash, "00000000000000aa")
        XCTAssertEqual(contents.build, "")
        XCTAssertEqual(contents.records, [journalRecord(0)])
    }

    func testChecksumIsFNV1a64() {
        // Reference values from the FNV specification's test vectors.
        XCTAssertEqual(Journal.checksum(""), "cbf29ce484222325")
        XCTAssertEqual(Journal.checksum("a"), "af63dc4c8601ec8c")
        XCTAssertEqual(Journal.checksum("foobar"), "85944171f73967e8")
    }

    /// A kill during a write leaves a last line without its newline: the line is dropped,
    /// and resuming truncates the file to the valid prefix before appending.
    func testTornLastLineIsDroppedAndTruncatedBeforeTheNextAppend() throws {
        let records = (0..<3).map(journalRecord)
        try writeJournal(records)
        let valid = bytes()
        let fourth = Array((try Journal.line(for: journalRecord(3)) + "\n").utf8)
        for cut in [1, fourth.count / 2, fourth.count - 18, fourth.count - 1] {  // half JSON ... all but the newline
            try setBytes(valid + fourth[..<cut])
            let contents = try XCTUnwrap(try Journal.read(path: path))
            XCTAssertEqual(contents.records, records, "cut at \(cut)")
            XCTAssertEqual(contents.droppedLines, 1, "cut at \(cut)")
            XCTAssertEqual(contents.validBytes, valid.count, "cut at \(cut)")

            let resumed = try JournalResume.open(path: path, specName: "spec", hash: "00000000000000aa", build: Self.build, fresh: false)
            XCTAssertEqual(resumed.records, records)
            XCTAssertEqual(resumed.droppedLines, 1)
            XCTAssertEqual(bytes(), valid, "truncated to the valid prefix on opening, cut at \(cut)")
            try resumed.journal.append(journalRecord(3))
            XCTAssertEqual(bytes(), valid + fourth, "the next append follows the valid prefix, cut at \(cut)")
        }
    }

    /// A complete line whose JSON was cut (a half-written line followed by a newline) fails its checksum.
    func testHalfJSONLineWithNewlineIsDropped() throws {
        try writeJournal((0..<2).map(journalRecord))
        let valid = bytes()
        let json = try Journal.line(for: journalRecord(2)).split(separator: "\t")[0]
        try setBytes(valid + Array(json.prefix(json.count / 2).utf8) + [UInt8(ascii: "\n")])
        let contents = try XCTUnwrap(try Journal.read(path: path))
        XCTAssertEqual(contents.records.count, 2)
        XCTAssertEqual(contents.droppedLines, 1)
        XCTAssertEqual(contents.validBytes, valid.count)
    }

    /// One changed byte in the middle of the file: that record and every later one are dropped.
    func testCorruptedLineIsDroppedWithEverythingAfterIt() throws {
        let records = (0..<5).map(journalRecord)
        try writeJournal(records)
        var corrupt = bytes()
        let lines = String(decoding: corrupt, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        // line 0 is the header; corrupt record 2 (line 3) inside its JSON
        let offset = lines[0...2].map { $0.utf8.count + 1 }.reduce(0, +) + 20
        corrupt[offset] = corrupt[offset] == UInt8(ascii: "7") ? UInt8(ascii: "8") : UInt8(ascii: "7")
        try setBytes(corrupt)
        let contents = try XCTUnwrap(try Journal.read(path: path))
        XCTAssertEqual(contents.records, Array(records[0..<2]))
        XCTAssertEqual(contents.droppedLines, 3)
        XCTAssertEqual(contents.validBytes, lines[0...2].map { $0.utf8.count + 1 }.reduce(0, +))

        // A corrupted checksum (the JSON intact) is treated the same way.
        var badSum = Array(try Journal.text(specName: "spec", hash: "00000000000000aa", build: Self.build, records: records).utf8)
        let lastTab = badSum.lastIndex(of: UInt8(ascii: "\t"))!
        badSum[lastTab + 1] = badSum[lastTab + 1] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        try setBytes(badSum)
        let summed = try XCTUnwrap(try Journal.read(path: path))
        XCTAssertEqual(summed.records, Array(records[0..<4]))
        XCTAssertEqual(summed.droppedLines, 1)
    }

    func testWrongHeaderIsAnErrorNamingTheFile() throws {
        for text in ["spec,seed,status\nrow\n", "bnlab-journal v2 spec=spec hash=00000000000000aa\n",
                     "bnlab-journal v1 spec=spec\n", "bnlab-journal v1 spec=spec hash=00000000000000aa build=\n",
                     "bnlab-journal v1 spec=spec hash=00000000000000aa nobuild=0123456789abcdef\n",
                     "bnlab-journal v1 spec=spec hash=00000000000000aa build=0123456789abcdef more\n", "hello"] {
            try setBytes(Array(text.utf8))
            XCTAssertThrowsError(try Journal.read(path: path), text) { error in
                let description = (error as? Journal.JournalError)?.description ?? "\(error)"
                XCTAssertTrue(description.hasPrefix("\(path): error: not a bnlab journal"), description)
                XCTAssertTrue(description.contains("--fresh"), description)
            }
            XCTAssertThrowsError(try JournalResume.open(path: path, specName: "spec", hash: "00000000000000aa", build: Self.build, fresh: false))
            // --fresh replaces whatever was there.
            let fresh = try JournalResume.open(path: path, specName: "spec", hash: "00000000000000aa", build: Self.build, fresh: true)
            XCTAssertEqual(fresh.records, [])
            XCTAssertEqual(String(decoding: bytes(), as: UTF8.self),
                           "bnlab-journal v1 spec=spec hash=00000000000000aa build=0123456789abcdef\n")
        }
    }

    /// Killed while the journal was created: an empty file, or part of the header without its newline.
    func testEmptyFileOrTornHeaderStartsANewJournal() throws {
        for text in ["", "bnlab-jour", "bnlab-journal v1 spec=spe"] {
            try setBytes(Array(text.utf8))
            let contents = try XCTUnwrap(try Journal.read(path: path))
            XCTAssertFalse(contents.hasHeader, text)
            XCTAssertEqual(contents.records, [])
            XCTAssertEqual(contents.droppedLines, text.isEmpty ? 0 : 1)
            let resumed = try JournalResume.open(path: path, specName: "spec", hash: "00000000000000bb", build: Self.build, fresh: false)
            XCTAssertNil(resumed.movedAside)
            try resumed.journal.append(journalRecord(0))
            XCTAssertEqual(String(decoding: bytes(), as: UTF8.self),
                           try Journal.text(specName: "spec", hash: "00000000000000bb", build: Self.build, records: [journalRecord(0)]))
        }
    }
}
