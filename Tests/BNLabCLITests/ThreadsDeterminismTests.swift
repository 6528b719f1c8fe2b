import Foundation
import XCTest

/// The tables do not depend on the threads a cell computes on (`threads`) nor on how the run shares its
/// cores (`--jobs`, the spare cores of the last cells): the tiny grid at training batches large enough
/// for every layer to split its work (64 and 100 samples: two convolution chunks, and BatchNorm and ReLU
/// over more than ``ComputeThreads/parallelMinimumWork`` values), run on one thread per cell and on
/// more, writes the same bytes.
final class ThreadsDeterminismTests: XCTestCase {
    private func tables(threads: Int, jobs: Int?, in directory: URL, out: String) throws -> [String: String] {
        let text = TinySweep.text().replacingOccurrences(of: "sweep batch_size 1 2 4", with: "sweep batch_size 64 100")
            + "threads \(threads)\n"
        let spec = "tiny.spec"
        try text.write(to: directory.appendingPathComponent(spec), atomically: true, encoding: .utf8)
        let outcome = try BNLabChild.run(["run", spec, "--out", out, "--quiet"] + (jobs.map { ["--jobs", "\($0)"] } ?? []),
                                         in: directory)
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        return TinySweep.tables(in: directory.appendingPathComponent(out))
    }

    func testThreadsAndJobsDoNotChangeTheTables() throws {
        let directory = try scratchDirectory(for: self)
        let reference = try tables(threads: 1, jobs: 1, in: directory, out: "one")
        XCTAssertEqual(reference.count, 3)
        assertSameTables(try tables(threads: 3, jobs: 1, in: directory, out: "three"), reference, "threads 3, --jobs 1")
        assertSameTables(try tables(threads: 2, jobs: nil, in: directory, out: "shared"), reference,
                         "threads 2, the cores shared out")
        assertSameTables(try tables(threads: 1, jobs: nil, in: directory, out: "spare"), reference,
                         "threads 1, the last cells on the spare cores")
    }
}
