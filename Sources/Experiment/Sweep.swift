import Datasets
import SpecFormat
import Foundation
import TensorCore

/// Set by SIGINT / SIGTERM; workers take no new cell once it is set.
nonisolated(unsafe) public var sweepInterruptRequested: sig_atomic_t = 0

/// The handler of ``Sweep/installSignalHandlers()``; only async-signal-safe calls
/// (`write(2)`, `_exit(2)`).
private func handleStopSignal(_ signal: Int32) {
    if sweepInterruptRequested != 0 { _exit(130) }
    sweepInterruptRequested = 1
    let note: StaticString = "\nbnlab: stopping after the cells in flight (signal again to stop at once, losing them)\n"
    _ = write(2, note.utf8Start, note.utf8CodeUnitCount)
}

/// Runs the tasks of a sweep on `jobs` threads, appending each finished cell to the
/// journal before starting the next, and skipping the cells the journal already holds.
/// Each cell's numbers depend only on its own seed and settings, so the results do not
/// depend on `jobs` or on the order in which cells finish.
public final class Sweep {
    public enum Event {
        case started(cell: Cell)
        case epoch(cell: Cell, epoch: Int)
        case finished(cell: Cell, record: CellRecord, done: Int, total: Int)
    }

    public let jobs: Int
    /// The cells' data, prepared once per data key (and the files it loaded).
    public let data: DataPreparation
    private let lock = NSLock()
    private let cache = TrainedModelCache()

    /// - Parameter data: the run's data cache; pass the one `check` loaded the files into.
    public init(jobs: Int, data: DataPreparation = DataPreparation()) {
        precondition(jobs >= 1, "jobs must be >= 1")
        self.jobs = jobs
        self.data = data
    }

    /// Installs SIGINT and SIGTERM handlers. The first signal requests a clean stop: the
    /// cells in flight finish and are journaled, no new cell starts, and a note goes to
    /// stderr. A second signal ends the process at once (`_exit(130)`), losing only the
    /// cells in flight; the journal stays readable (see ``Journal``).
    public static func installSignalHandlers() {
        signal(SIGINT, handleStopSignal)
        signal(SIGTERM, handleStopSignal)
    }

    /// Runs `cells` (those not in `done`), returning every record (old and new).
    /// Returns early, without error, when an interrupt was requested; `interrupted` says so.
    /// A dataset error stops the sweep and is rethrown (it is the same for every cell).
    public func run(cells: [Cell], done: [CellRecord], journal: Journal?,
                    onEvent: @escaping (Event) -> Void) throws -> (records: [CellRecord], interrupted: Bool) {
        let finishedKeys = Set(done.map(\.key))
        let pending = cells.filter { !finishedKeys.contains($0.key) }
        for cell in pending { cache.expect(TrainedModelCache.Key(cell)) }
        var records = done
        var next = 0
        var failure: Error?
        let total = cells.count
        /// One worker: takes the next pending cell until none is left, a cell failed or a stop was requested.
        func work() {
            while true {
                lock.lock()
                guard failure == nil, sweepInterruptRequested == 0, next < pending.count else { lock.unlock(); return }
                let cell = pending[next]
                next += 1
                lock.unlock()
                onEvent(.started(cell: cell))
                do {
                    let prepared = try data.prepare(cell.data)
                    let measured = CellRunner.run(cell, data: prepared, cache: cache) { epoch in
                        onEvent(.epoch(cell: cell, epoch: epoch))
                    }
                    let record = CellRecord(index: cell.index, key: cell.key, settings: cell.settings,
                                            seed: Int(cell.seed), measurements: measured)
                    lock.lock()
                    defer { lock.unlock() }
                    try journal?.append(record)
                    records.append(record)
                    onEvent(.finished(cell: cell, record: record, done: records.count, total: total))
                } catch {
                    lock.lock()
                    if failure == nil { failure = error }
                    lock.unlock()
                    return
                }
            }
        }
        // Each worker is a compute thread: denormals flushed (FloatingPointMode). concurrentPerform
        // runs one worker on the calling thread, whose mode is restored afterwards.
        DispatchQueue.concurrentPerform(iterations: min(jobs, max(pending.count, 1))) { _ in
            FloatingPointMode.withDenormalsFlushed(work)
        }
        if let failure { throw failure }
        return (records.sorted { $0.index < $1.index }, sweepInterruptRequested != 0)
    }
}
