import Datasets
import SpecFormat
import Foundation
import Synchronization
import TensorCore

/// Set by SIGINT / SIGTERM; workers take no new cell once it is set. nonisolated(unsafe): a signal
/// handler may only write a `volatile sig_atomic_t`, and no lock is async-signal-safe.
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
        /// `cell` finished epoch `epoch` (1-based) of the `of` it trains.
        case epoch(cell: Cell, epoch: Int, of: Int)
        case finished(cell: Cell, record: CellRecord, done: Int, total: Int)
    }

    public let jobs: Int
    /// The cells' data, prepared once per data key (and the files it loaded).
    public let data: DataPreparation
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
                    onEvent: @escaping @Sendable (Event) -> Void) throws -> (records: [CellRecord], interrupted: Bool) {
        let finishedKeys = Set(done.map(\.key))
        let pending = cells.filter { !finishedKeys.contains($0.key) }
        for cell in pending { cache.expect(TrainedModelCache.Key(cell)) }
        /// What the workers share: the next pending cell, the records so far, the first failure.
        struct Progress { var next = 0; var records: [CellRecord]; var failure: (any Error)? }
        let progress = Mutex(Progress(records: done))
        let total = cells.count
        let (data, cache) = (self.data, self.cache)
        /// One worker: takes the next pending cell until none is left, a cell failed or a stop was requested.
        @Sendable func work() {
            while true {
                let taken: Cell? = progress.withLock { p in
                    guard p.failure == nil, sweepInterruptRequested == 0, p.next < pending.count else { return nil }
                    p.next += 1
                    return pending[p.next - 1]
                }
                guard let cell = taken else { return }
                onEvent(.started(cell: cell))
                do {
                    let prepared = try data.prepare(cell.data)
                    let measured = CellRunner.run(cell, data: prepared, cache: cache) { epoch, epochCount in
                        onEvent(.epoch(cell: cell, epoch: epoch, of: epochCount))
                    }
                    let record = CellRecord(index: cell.index, key: cell.key, settings: cell.settings,
                                            seed: cell.seed, measurements: measured)
                    // Journal, record and report one cell at a time, in the order they finish.
                    try progress.withLock { p in
                        try journal?.append(record)
                        p.records.append(record)
                        onEvent(.finished(cell: cell, record: record, done: p.records.count, total: total))
                    }
                } catch {
                    progress.withLock { p in if p.failure == nil { p.failure = error } }
                    return
                }
            }
        }
        // Each worker is a compute thread: denormals flushed (FloatingPointMode). concurrentPerform
        // runs one worker on the calling thread, whose mode is restored afterwards.
        DispatchQueue.concurrentPerform(iterations: min(jobs, max(pending.count, 1))) { _ in
            FloatingPointMode.withDenormalsFlushed(work)
        }
        let finished = progress.withLock { $0 }
        if let failure = finished.failure { throw failure }
        return (finished.records.sorted { $0.index < $1.index }, sweepInterruptRequested != 0)
    }
}
