import Foundation
import SpecFormat
import Datasets
import Experiment
import Reports
import XCTest

/// Seeds are UInt64 from the spec to the tables: `seeds` accepts 0 ... 2^64 - 1, and a seed above
/// Int.max runs, is journaled, resumes and is tabulated with the digits the spec wrote.
final class SeedRangeTests: XCTestCase {
    static let spec = OneCellSpec.settings + "seeds 9223372036854775808 18446744073709551615\n"

    func testSeedsAboveIntMaxRunResumeAndAreTabulatedAsWritten() throws {
        let directory = try scratchDirectory(for: self)
        try Self.spec.write(to: directory.appendingPathComponent("big.spec"), atomically: true, encoding: .utf8)
        // one job: the journal holds the cells in the order they finish
        let first = try BNLabChild.run(["run", "big.spec", "--out", "out", "--jobs", "1", "--quiet"], in: directory)
        XCTAssertEqual(first.status, 0, first.standardError)
        XCTAssertFalse(first.signaled)
        let table = try String(contentsOf: directory.appendingPathComponent("out/big.csv"), encoding: .utf8)
        let header = table.split(separator: "\n")[0].split(separator: ",", omittingEmptySubsequences: false)
        let seedColumn = try XCTUnwrap(header.firstIndex(of: "seed"))
        let seeds = table.split(separator: "\n").dropFirst()
            .map { String($0.split(separator: ",", omittingEmptySubsequences: false)[seedColumn]) }
        XCTAssertEqual(seeds, ["9223372036854775808", "18446744073709551615"])

        // The journal holds the cells in the order they finished (two at once on two cores): read in grid order.
        let journal = try XCTUnwrap(try Journal.read(path: directory.appendingPathComponent("out/.journal/big.journal").path))
        let records = journal.records.sorted { $0.index < $1.index }
        XCTAssertEqual(records.map { String($0.seed) }, ["9223372036854775808", "18446744073709551615"])
        XCTAssertEqual(records.map(\.key), ["seed=9223372036854775808", "seed=18446744073709551615"])

        let again = try BNLabChild.run(["run", "big.spec", "--out", "out", "--quiet"], in: directory)
        XCTAssertEqual(again.status, 0, again.standardError)
        XCTAssertEqual(again.standardError, "bnlab: big: resuming, 2 of 2 cells already done\n")
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("out/big.csv"), encoding: .utf8), table)
    }
}
