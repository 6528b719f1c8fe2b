import Datasets
import Experiment
import SpecFormat
import TensorCore
import XCTest

final class RunSweepFloatingPointTests: XCTestCase {
    private struct Stop: Error {}

    /// Every sweep worker computes with denormals flushed, whichever thread Dispatch gives it.
    func testSweepWorkersFlushDenormals() throws {
        let lock = NSLock()
        var flags: [Bool] = []
        let tasks = (0..<4).map { i in
            SweepTask(index: i, key: "seed=\(i)", settings: [], seed: i, plan: ExperimentConfig().cellPlan,
                      dataKey: "") { () throws -> PreparedData in
                lock.lock(); flags.append(FloatingPointMode.denormalsFlushed); lock.unlock()
                throw Stop()
            }
        }
        XCTAssertThrowsError(try Sweep(jobs: 2).run(tasks: tasks, done: [], journal: nil) { _ in })
        XCTAssertFalse(flags.isEmpty)
        XCTAssertEqual(flags, flags.map { _ in true })
    }
}
