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
}
