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
///
/// Each job owns the ``ComputeThreads`` its cells run on: `threadsPerCell` of them (the job's own
/// thread included) while every job has a cell, and a share of the `cores` once fewer cells than
/// jobs are left (at the end of every sweep): `cores / running` each (the first `cores % running`
/// one more), never fewer than `threadsPerCell`. So every core stays busy until the last cell ends.
/// Each cell's numbers depend only on its own seed and settings (not on its threads: see
/// ``ComputeThreads``), so the results do not depend on `jobs`, the threads or the order in which
/// cells finish.
public final class Sweep {
    public enum Event {
        case started(cell: Cell)
        /// `cell` finished epoch `epoch` (1-based) of the `of` it trains.
        case epoch(cell: Cell, epoch: Int, of: Int)
        case finished(cell: Cell, record: CellRecord, done: Int, total: Int)
    }

    public let jobs: Int
    /// The threads each cell runs on while every job has a cell (its job's thread and workers).
    public let threadsPerCell: Int
    /// The cores the jobs share out among the running cells (at least `threadsPerCell`).
    public let cores: Int
    /// The cells' data, prepared once per data key (and the files it loaded).
    public let data: DataPreparation
    private let cache = TrainedModelCache()

    /// - Parameter data: the run's data cache; pass the one `check` loaded the files into.
    /// - Parameter cores: default `jobs * threadsPerCell` (no spare cores).
    public init(jobs: Int, threadsPerCell: Int = 1, cores: Int? = nil, data: DataPreparation = DataPreparation()) {
        precondition(jobs >= 1, "jobs must be >= 1")
        precondition(threadsPerCell >= 1, "threads per cell must be >= 1, got \(threadsPerCell)")
        self.jobs = jobs
        self.threadsPerCell = threadsPerCell
        self.cores = max(cores ?? jobs * threadsPerCell, threadsPerCell)
        self.data = data
    }

    /// The threads of each of `running` cells: `cores / running` (the first `cores % running` one more),
    /// at least `threadsPerCell`.
    public static func coreShares(cores: Int, threadsPerCell: Int, running: Int) -> [Int] {
        (0..<running).map { rank in max(threadsPerCell, cores / running + (rank < cores % running ? 1 : 0)) }
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
        let workers = min(jobs, max(pending.count, 1))
        let (data, cache, threadsPerCell, cores) = (self.data, self.cache, self.threadsPerCell, self.cores)
        let pools = (0..<workers).map { _ in ComputeThreads(count: cores, active: threadsPerCell) }
        /// What the workers share: the next pending cell, the records so far, the first failure, and the
        /// workers still running (whose pools share the cores).
        struct Progress {
            var next = 0
            var records: [CellRecord]
            var failure: (any Error)?
            var running: Set<Int>
        }
        let progress = Mutex(Progress(records: done, running: Set(0..<workers)))
        let total = cells.count
        /// The running workers' shares of the cores (see the type's summary).
        @Sendable func shareCores(among running: Set<Int>) {
            let workers = running.sorted()
            for (worker, share) in zip(workers, Sweep.coreShares(cores: cores, threadsPerCell: threadsPerCell,
                                                                running: workers.count)) {
                pools[worker].setActive(share)
            }
        }
        shareCores(among: Set(0..<workers))
        /// One worker: takes the next pending cell until none is left, a cell failed or a stop was requested,
        /// then leaves its cores to the others.
        @Sendable func work(_ worker: Int) {
            let threads = pools[worker]
            defer {
                progress.withLock { p in
                    p.running.remove(worker)
                    shareCores(among: p.running)
                }
            }
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
                    let measured = CellRunner.run(cell, data: prepared, cache: cache, onEpoch: { epoch, epochCount in
                        onEvent(.epoch(cell: cell, epoch: epoch, of: epochCount))
                    }, threads: threads)
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
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            FloatingPointMode.withDenormalsFlushed { work(worker) }
        }
        let finished = progress.withLock { $0 }
        if let failure = finished.failure { throw failure }
        return (finished.records.sorted { $0.index < $1.index }, sweepInterruptRequested != 0)
    }
}
