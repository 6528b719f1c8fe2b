@testable import BNLabCLI
import Foundation
import Experiment
import Reports
import XCTest

/// A journal written by another build of bnlab (the code changed) is never resumed by default: the
/// run moves it aside and trains every cell again; `--keep-stale` resumes it; `status` says which it is;
/// `merge` refuses it. A journal header names its build; every run records its provenance beside the tables.
final class StaleBuildTests: XCTestCase {
    /// A build that is not this one.
    static let otherBuild = BNLab.buildIdentity == "ffffffffffffffff" ? "eeeeeeeeeeeeeeee" : "ffffffffffffffff"

    /// A directory with `small.spec` (two cells) run once into `out`; returns it and the journal's path.
    private func ranOnce() throws -> (URL, String) {
        let directory = try scratchDirectory(for: self)
        try StatusFreshTests.spec.write(to: directory.appendingPathComponent("small.spec"), atomically: true, encoding: .utf8)
        let first = try BNLabChild.run(["run", "small.spec", "--out", "out", "--quiet"], in: directory)
        XCTAssertEqual(first.status, 0, first.standardError)
        return (directory, directory.appendingPathComponent("out/.journal/small.journal").path)
    }

    /// Rewrites line 1 of the journal at `path` with `edit`.
    private func editHeader(_ path: String, _ edit: (String) -> String) throws {
        var lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
        lines[0] = edit(lines[0])
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    private func status(_ directory: URL) throws -> String {
        let outcome = try BNLabChild.run(["status", "small.spec", "--out", "out"], in: directory)
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        return outcome.standardOutput
    }

    /// The journal's header names the build that ran the cells, and the tables' provenance file names it too.
    func testTheJournalAndTheProvenanceNameThisBuild() throws {
        let (directory, journal) = try ranOnce()
        let contents = try XCTUnwrap(try Journal.read(path: journal))
        XCTAssertEqual(contents.build, BNLab.buildIdentity)
        XCTAssertTrue(try String(contentsOfFile: journal, encoding: .utf8)
            .hasPrefix("bnlab-journal v1 spec=small hash=\(contents.hash) build=\(BNLab.buildIdentity)\n"))
        let provenance = try Provenance(csv: try String(contentsOf: directory.appendingPathComponent("out/small-provenance.csv"),
                                                        encoding: .utf8))
        XCTAssertEqual(provenance, Provenance.thisProcess, "the child ran this build with the same OpenBLAS on the same CPU")
        let report = try String(contentsOf: directory.appendingPathComponent("out/small.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("\n\nComputed by bnlab \(BNLab.version) (build `\(BNLab.buildIdentity)`) with OpenBLAS "
                                      + "\(provenance.openBLASVersion) running its \(provenance.openBLASCore) kernels"), report)
        XCTAssertTrue(report.contains("`OPENBLAS_CORETYPE=\(provenance.openBLASCore) bnlab run small.spec` reproduces"), report)
    }

    /// Another build's journal: `status` counts none of its cells, the run trains both again, keeps the old
    /// journal aside as `.stale-build-<its build>` and says so in one line.
    func testAnotherBuildsJournalIsNotResumed() throws {
        let (directory, journal) = try ranOnce()
        try editHeader(journal) { $0.replacingOccurrences(of: "build=\(BNLab.buildIdentity)", with: "build=\(Self.otherBuild)") }
        let oldText = try String(contentsOfFile: journal, encoding: .utf8)
        XCTAssertEqual(try status(directory), "small: 0/2 cells done (2 journaled by another build of bnlab, build"
                       + " \(Self.otherBuild): the next run starts over, or resumes them with --keep-stale)\n")

        let rerun = try BNLabChild.run(["run", "small.spec", "--out", "out"], in: directory)
        XCTAssertEqual(rerun.status, 0, rerun.standardError)
        let stale = "out/.journal/small.journal.stale-build-\(Self.otherBuild)"
        XCTAssertEqual(rerun.firstErrorLine, "bnlab: small: its journal was written by another build of bnlab (build"
                       + " \(Self.otherBuild); this is build \(BNLab.buildIdentity)); starting over (old journal kept as"
                       + " \(stale); --keep-stale resumes it instead)")
        XCTAssertEqual(rerun.standardError.components(separatedBy: "/2] small ").count - 1, 2, "both cells trained again")
        XCTAssertFalse(rerun.standardError.contains("resuming"), rerun.standardError)
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent(stale), encoding: .utf8), oldText,
                       "the old journal is kept aside as it was")
        XCTAssertEqual(try XCTUnwrap(try Journal.read(path: journal)).build, BNLab.buildIdentity)
        XCTAssertEqual(journalRecordCount(journal), 2)
        XCTAssertEqual(try status(directory), "small: 2/2 cells done\n")
    }

    /// A header from a bnlab that did not record its build (no `build=`) is another build's.
    func testAJournalWithoutABuildIsAnotherBuilds() throws {
        let (directory, journal) = try ranOnce()
        try editHeader(journal) { $0.replacingOccurrences(of: " build=\(BNLab.buildIdentity)", with: "") }
        XCTAssertEqual(try status(directory), "small: 0/2 cells done (2 journaled by another build of bnlab, build"
                       + " not recorded: the next run starts over, or resumes them with --keep-stale)\n")
        let rerun = try BNLabChild.run(["run", "small.spec", "--out", "out", "--quiet"], in: directory)
        XCTAssertEqual(rerun.status, 0, rerun.standardError)
        XCTAssertEqual(rerun.standardError, "bnlab: small: its journal was written by another build of bnlab (build not"
                       + " recorded; this is build \(BNLab.buildIdentity)); starting over (old journal kept as"
                       + " out/.journal/small.journal.stale-build-unrecorded; --keep-stale resumes it instead)\n")
        XCTAssertEqual(journalRecordCount(journal + ".stale-build-unrecorded"), 2)
    }

    /// `--keep-stale` resumes another build's journal (nothing is trained), says so, and rewrites its header to
    /// this build, so `status` and the next run take its cells as done.
    func testKeepStaleResumesAnotherBuildsJournal() throws {
        let (directory, journal) = try ranOnce()
        let tables = try String(contentsOf: directory.appendingPathComponent("out/small-summary.csv"), encoding: .utf8)
        try editHeader(journal) { $0.replacingOccurrences(of: "build=\(BNLab.buildIdentity)", with: "build=\(Self.otherBuild)") }
        let kept = try BNLabChild.run(["run", "small.spec", "--out", "out", "--keep-stale"], in: directory)
        XCTAssertEqual(kept.status, 0, kept.standardError)
        XCTAssertEqual(kept.standardError, "bnlab: small: its journal was written by another build of bnlab (build"
                       + " \(Self.otherBuild); this is build \(BNLab.buildIdentity)); resuming it anyway (--keep-stale):"
                       + " its cells now count as this build's\nbnlab: small: resuming, 2 of 2 cells already done\n")
        XCTAssertEqual(try XCTUnwrap(try Journal.read(path: journal)).build, BNLab.buildIdentity)
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("out/small-summary.csv"), encoding: .utf8), tables)
        XCTAssertFalse(FileManager.default.fileExists(atPath: journal + ".stale-build-\(Self.otherBuild)"))
        XCTAssertEqual(try status(directory), "small: 2/2 cells done\n")
    }

    /// `--keep-stale` resumes a journal and `--fresh` empties it: together they are a usage error.
    func testKeepStaleWithFreshIsRefused() throws {
        let directory = try scratchDirectory(for: self)
        try StatusFreshTests.spec.write(to: directory.appendingPathComponent("small.spec"), atomically: true, encoding: .utf8)
        let both = try BNLabChild.run(["run", "small.spec", "--out", "out", "--keep-stale", "--fresh"], in: directory)
        XCTAssertEqual(both.status, 2)
        XCTAssertEqual(both.standardError, "bnlab: error: --keep-stale resumes a journal and --fresh empties it: give one"
                       + " of them\nRun 'bnlab run --help'.\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("out").path), "nothing written")
    }

    /// `merge` never combines another build's cells: status 2, nothing written.
    func testMergeRefusesAnotherBuildsJournal() throws {
        let (directory, journal) = try ranOnce()
        try editHeader(journal) { $0.replacingOccurrences(of: "build=\(BNLab.buildIdentity)", with: "build=\(Self.otherBuild)") }
        let merge = try BNLabChild.run(["merge", "small.spec", "--out", "merged", "out/.journal/small.journal"], in: directory)
        XCTAssertEqual(merge.status, 2)
        XCTAssertEqual(merge.standardError, "out/.journal/small.journal: error: journal was written by another build of"
                       + " bnlab (build \(Self.otherBuild); this is build \(BNLab.buildIdentity)); rerun its shard with"
                       + " this build\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("merged").path))
    }
}
