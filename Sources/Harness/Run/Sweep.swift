import Foundation
import TensorCore

/// One unit of work of a sweep: a grid cell with one seed.
public struct SweepTask: @unchecked Sendable {
    public var index: Int
    public var key: String
    public var settings: [[String]]
    public var seed: UInt64
    public var plan: CellPlan
    /// Identity of the cell's data (its data settings and seed), for sharing trained models.
    public var dataKey: String
    /// Builds (or fetches from a cache) the cell's data; may throw a dataset error.
    public var data: () throws -> PreparedData

    public init(index: Int, key: String, settings: [[String]], seed: UInt64, plan: CellPlan, dataKey: String,
                data: @escaping () throws -> PreparedData) {
        self.index = index; self.key = key; self.settings = settings; self.seed = seed; self.plan = plan
        self.dataKey = dataKey; self.data = data
    }
}

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
        case started(task: SweepTask)
        case epoch(task: SweepTask, epoch: Int)
        case finished(task: SweepTask, record: CellRecord, done: Int, total: Int)
    }

    public let jobs: Int
    private let lock = NSLock()
    private let cache = TrainedModelCache()

    public init(jobs: Int) {
        precondition(jobs >= 1, "jobs must be >= 1")
        self.jobs = jobs
    }

    /// Installs SIGINT and SIGTERM handlers. The first signal requests a clean stop: the
    /// cells in flight finish and are journaled, no new cell starts, and a note goes to
    /// stderr. A second signal ends the process at once (`_exit(130)`), losing only the
    /// cells in flight; the journal stays readable (see ``Journal``).
    public static func installSignalHandlers() {
        signal(SIGINT, handleStopSignal)
        signal(SIGTERM, handleStopSignal)
    }

    /// Runs `tasks` (those not in `done`), returning every record (old and new).
    /// Returns early, without error, when an interrupt was requested; `interrupted` says so.
    /// A dataset error stops the sweep and is rethrown (it is the same for every cell).
    public func run(tasks: [SweepTask], done: [CellRecord], journal: Journal?,
                    onEvent: @escaping (Event) -> Void) throws -> (records: [CellRecord], interrupted: Bool) {
        let finishedKeys = Set(done.map(\.key))
        let pending = tasks.filter { !finishedKeys.contains($0.key) }
        for task in pending { cache.expect(TrainedModelCache.Key(plan: task.plan, dataKey: task.dataKey)) }
        var records = done
        var next = 0
        var failure: Error?
        let total = tasks.count
        DispatchQueue.concurrentPerform(iterations: min(jobs, max(pending.count, 1))) { _ in
            while true {
                lock.lock()
                guard failure == nil, sweepInterruptRequested == 0, next < pending.count else { lock.unlock(); return }
                let task = pending[next]
                next += 1
                lock.unlock()
                onEvent(.started(task: task))
                do {
                    let data = try task.data()
                    let measured = CellRunner.run(plan: task.plan, data: data, cache: cache, dataKey: task.dataKey) { epoch in onEvent(.epoch(task: task, epoch: epoch)) }
                    let record = CellRecord(index: task.index, key: task.key, settings: task.settings, seed: task.seed,
                                            measurements: measured)
                    lock.lock()
                    defer { lock.unlock() }
                    try journal?.append(record)
                    records.append(record)
                    onEvent(.finished(task: task, record: record, done: records.count, total: total))
                } catch {
                    lock.lock()
                    if failure == nil { failure = error }
                    lock.unlock()
                    return
                }
            }
        }
        if let failure { throw failure }
        return (records.sorted { $0.index < $1.index }, sweepInterruptRequested != 0)
    }
}
