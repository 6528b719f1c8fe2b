import Datasets
import Experiment
import SpecFormat
import TensorCore
import XCTest

final class RunSweepFloatingPointTests: XCTestCase {
    /// Every sweep worker computes with denormals flushed, whichever thread Dispatch gives it: the
    /// `started` event comes from the worker, before the cell's data (a missing file here, which
    /// ends the sweep) is prepared.
    func testSweepWorkersFlushDenormals() throws {
        final class Flags: @unchecked Sendable {  // appended under `lock` by the workers
            let lock = NSLock()
            var values: [Bool] = []
        }
        let flags = Flags()
        let cells = (0..<4).map { i -> Cell in
            var config = ExperimentConfig()
            config.dataset = .csv(CSVSource(path: "/nonexistent/bnlab-test.csv"))
            config.seed = UInt64(i)
            return Cell(config, index: i)
        }
        XCTAssertThrowsError(try Sweep(jobs: 2).run(cells: cells, done: [], journal: nil) { event in
            guard case .started = event else { return }
            flags.lock.lock(); flags.values.append(FloatingPointMode.denormalsFlushed); flags.lock.unlock()
        })
        XCTAssertFalse(flags.values.isEmpty)
        XCTAssertEqual(flags.values, flags.values.map { _ in true })
    }

    /// The running cells share the cores: a cell each while every job has one, the spare cores to the
    /// last ones, never fewer than the spec's threads.
    func testTheLastCellsShareTheCoresOfTheFinishedJobs() {
        XCTAssertEqual(Sweep.coreShares(cores: 2, threadsPerCell: 1, running: 2), [1, 1])
        XCTAssertEqual(Sweep.coreShares(cores: 2, threadsPerCell: 1, running: 1), [2])
        XCTAssertEqual(Sweep.coreShares(cores: 16, threadsPerCell: 2, running: 3), [6, 5, 5])
        XCTAssertEqual(Sweep.coreShares(cores: 4, threadsPerCell: 3, running: 2), [3, 3], "never below threads")
        XCTAssertEqual(Sweep.coreShares(cores: 4, threadsPerCell: 1, running: 0), [])
    }
}
