import Foundation
import Charts
import Experiment
import SpecFormat
import XCTest

/// `--shard K/N` runs a deterministic share of the grid; `bnlab merge` combines the shards'
/// journals into the tables of a single run, and refuses or reports incomplete sets.
final class ShardMergeTests: XCTestCase {
    private func shardJournal(_ k: Int) -> String { "shards/.journal/tiny-shard-\(k)-of-3.journal" }

    func testThreeShardsMergeIntoTheTablesOfASingleRun() throws {
        let reference = try TinySweep.reference()
        let directory = try scratchDirectory(for: self)
        let spec = try TinySweep.write(in: directory)
        // The three shards run as separate processes, at the same time.
        let children = try (1...3).map { k in
            try BNLabChild(["run", spec, "--shard", "\(k)/3", "--out", "shards", "--jobs", "1", "--quiet"], in: directory)
        }
        for (k, child) in zip(1..., children) {
            let outcome = child.wait()
            XCTAssertEqual(outcome.status, 0, "shard \(k): \(outcome.standardError)")
            XCTAssertTrue(outcome.standardError.contains("shard \(k)/3 done (4 cells)"), outcome.standardError)
            let records = try XCTUnwrap(try Journal.read(path: directory.appendingPathComponent(shardJournal(k)).path)).records
            XCTAssertEqual(records.map(\.index).sorted(), Array(stride(from: k - 1, to: 12, by: 3)),
                           "shard \(k) holds the cells with index % 3 == \(k - 1)")
        }
        XCTAssertTrue(TinySweep.tables(in: directory.appendingPathComponent("shards")).isEmpty, "a shard writes no tables")
        let status = try BNLabChild.run(["status", spec, "--out", "shards"], in: directory)
        XCTAssertEqual(status.standardOutput, """
            tiny: 0/12 cells done (no journal in shards)
            tiny shard 1/3: 4/4 cells done
            tiny shard 2/3: 4/4 cells done
            tiny shard 3/3: 4/4 cells done

            """)

        let journals = (1...3).map(shardJournal)
        let merge = try BNLabChild.run(["merge", spec, "--out", "merged"] + journals, in: directory)
        XCTAssertEqual(merge.status, 0, merge.standardError)
        XCTAssertEqual(merge.standardOutput, "merged/tiny.csv: 12 cells merged from 3 journal(s)\n")
        XCTAssertEqual(merge.standardError, "")
        assertSameTables(TinySweep.tables(in: directory.appendingPathComponent("merged")), reference, "merged shards")
        // The merged journal makes the run complete for status and for a later run.
        XCTAssertEqual(try BNLabChild.run(["status", spec, "--out", "merged"], in: directory).standardOutput,
                       "tiny: 12/12 cells done\n")

        // A missing shard: the missing cells are listed, status 1, nothing written.
        let missing = try BNLabChild.run(["merge", spec, "--out", "missing"] + journals.prefix(2), in: directory)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.firstErrorLine.hasPrefix("bnlab: merge: 4 of 12 cells missing, nothing written; missing: "
                                                       + "batch_size=1 momentum=0.01 seed=0; "), missing.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("missing").path))

        // A shard given twice: reported, kept once, the same tables.
        let twice = try BNLabChild.run(["merge", spec, "--out", "twice", journals[1]] + journals, in: directory)
        XCTAssertEqual(twice.status, 0, twice.standardError)
        XCTAssertTrue(twice.firstErrorLine.hasPrefix("bnlab: merge: 4 duplicated cell(s) with identical results, kept once: "),
                      twice.standardError)
        assertSameTables(TinySweep.tables(in: directory.appendingPathComponent("twice")), reference, "a shard merged twice")
    }

    /// Same spec, same seeds: `--jobs 2` (cells finishing in any order) writes the tables of `--jobs 1`.
    func testJobsDoNotChangeTheTables() throws {
        let reference = try TinySweep.reference()
        let directory = try scratchDirectory(for: self)
        let spec = try TinySweep.write(in: directory)
        let outcome = try BNLabChild.run(["run", spec, "--out", "out", "--jobs", "2", "--quiet"], in: directory)
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        assertSameTables(TinySweep.tables(in: directory.appendingPathComponent("out")), reference, "--jobs 2")
    }
}
