import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The threads one computation runs on: the calling thread and `count - 1` workers that this object
/// owns, for kernels that cut their work into independent tasks (``forEach(_:_:)``) or run one loop
/// on every thread that joins (``run(_:)``). Passed to the layers in their `Mode` (NN), owned by
/// whoever runs a cell (a sweep job, the bench); ``serial`` has no workers.
///
/// **Numbers never depend on it.** A kernel that takes one gives every task the same inputs and the
/// same order of operations whichever thread runs it and however many threads join; reductions across
/// tasks stay in their single-thread order (a chain that one thread at a time extends). So a kernel
/// run on 1, 2 or 3 threads writes the same bits, which the tests of each parallel kernel check.
///
/// **Joining.** A region (one ``run(_:)``) is open until the calling thread has finished its own
/// share, and the call returns once every thread that joined has finished; a worker that wakes after
/// the region closed skips it. So a region is done by 1 to `count` threads, never waits for a worker
/// that the operating system has not scheduled, and its bodies must claim work (``forEach(_:_:)``
/// does) rather than assume a number of threads. A waiting thread (a worker before the next region,
/// the caller for the joined workers to finish, a pipeline's thread for a step another holds) spins for
/// up to ``spinSeconds``, yielding its core between checks after the first few, then sleeps until
/// woken (``SpinWait``).
///
/// **Floating-point modes.** Each region runs on every thread under the calling thread's control word
/// (MXCSR; FPCR on AArch64), so flush-to-zero and denormals-are-zero are set on the workers exactly when
/// they are set on the caller (``FloatingPointMode``); a worker also sets both when it starts.
///
/// **Active threads.** Of the `count` threads, the first ``active`` join regions (the caller and
/// workers `1..<active`); the others sleep until ``setActive(_:)`` lets them in. A sweep raises it when
/// fewer cells than cores are left, so the running cells take the spare cores.
///
/// One computation at a time: a second thread entering ``run(_:)`` while a region is open is a
/// programming error and stops the process.
public final class ComputeThreads: @unchecked Sendable {
    /// The threads that may work on a region, the caller included (>= 1): the number of per-thread
    /// workspaces a kernel needs, indexed by the `worker` its body receives (0 is the caller).
    public let count: Int
    private let shared: Shared

    /// No workers: every region runs on the calling thread.
    public static let serial = ComputeThreads(count: 1)

    /// `count` threads: the caller and `count - 1` workers started now, of which the first `active`
    /// (default: all) join regions.
    public convenience init(count: Int, active: Int? = nil) {
        self.init(count: count, startedWorkers: count - 1, active: active ?? count)
    }

    /// `count` workspaces but only `startedWorkers` workers (tests: a region done by fewer threads than
    /// `count`, as when workers wake late).
    init(count: Int, startedWorkers: Int, active: Int? = nil) {
        precondition(count >= 1, "ComputeThreads: count must be >= 1, got \(count)")
        precondition(startedWorkers >= 0 && startedWorkers < count,
                     "ComputeThreads: \(startedWorkers) workers for \(count) threads")
        self.count = count
        shared = Shared()
        setActive(active ?? count)
        for index in 1..<(startedWorkers + 1) { Worker.start(shared: shared, index: index) }
    }

    /// How many threads join regions now (1...``count``), the caller included.
    public var active: Int { shared.active.load(ordering: .relaxed) }

    /// Lets the first `threads` (clamped to 1...``count``) join the regions from the next one on;
    /// callable from any thread, at any time.
    public func setActive(_ threads: Int) {
        shared.active.store(min(max(threads, 1), count), ordering: .sequentiallyConsistent)
        shared.wakeParked()
    }

    deinit { shared.shutDown() }

    /// How long a waiting thread spins before it sleeps: 0.5 ms. The regions of a training step follow
    /// one another within microseconds to a few hundred (the serial code between layers, the next batch),
    /// while a worker woken through the kernel takes tens of microseconds to run again, often longer than
    /// a BatchNorm or ReLU region lasts: measured (flagship, batch 128, 2 threads), with a spin of a few
    /// microseconds the worker joined the convolutions' regions and none of the element-wise ones.
    /// (GNU OpenMP spins for about 300,000 checks before it sleeps, LLVM's for 200 ms.)
    public static let spinSeconds = 0.000_5

    /// How many times a worker has joined a region so far (tests: work was in fact shared).
    var workerJoins: Int { shared.joins.load(ordering: .relaxed) }

    /// CPU seconds the calling thread has spent so far waiting inside regions (for the workers it joined
    /// to finish, for a pipeline step another thread holds), spinning included. Its CPU time minus this
    /// is the work it did itself: with every thread on a core of its own, the critical path (`bnlab
    /// bench`'s "main ms"), which a shared machine's wall clock does not show.
    public var callerWaitSeconds: Double { Double(shared.callerWaitNanoseconds.load(ordering: .relaxed)) / 1e9 }

    /// Runs `body(worker)` on each thread that joins, the calling thread (worker 0) always; returns when
    /// every one that joined has returned. `worker` is in `0..<count`, distinct among the threads of
    /// the region. `body` must finish all the work itself when it runs alone (see the type's summary).
    public func run(_ body: @escaping (_ worker: Int) -> Void) {
        if active == 1 { body(0); return }
        shared.open(body, control: FloatingPointMode.control)
        body(0)
        shared.closeAndWait()
    }

    /// `body(task, worker)` for every `task` in `0..<tasks`, each task exactly once, spread over the
    /// threads that join (in order on the calling thread when one is ``active``). Tasks must be
    /// independent: none may wait for another.
    public func forEach(_ tasks: Int, _ body: @escaping (_ task: Int, _ worker: Int) -> Void) {
        if active == 1 || tasks <= 1 {
            for task in 0..<tasks { body(task, 0) }
            return
        }
        let shared = self.shared
        shared.nextTask.store(0, ordering: .relaxed)  // published by the region's opening
        run { worker in
            while true {
                let task = shared.nextTask.wrappingAdd(1, ordering: .relaxed).oldValue
                if task >= tasks { return }
                body(task, worker)
            }
        }
    }

    /// The least work (values read or written) for which ``forEachBlock(_:work:_:)`` splits a loop over
    /// the threads: below it, waking a worker (microseconds) would cost more than it saves.
    public static let parallelMinimumWork = 1 << 15

    /// `body(block)` for consecutive blocks of `0..<count` that cover it once: about four blocks per
    /// thread (claimed as they come), or the whole range on the calling thread when there is one thread
    /// or `work` is below ``parallelMinimumWork``. For loops whose iterations are independent (the
    /// planes, channels or values of an element-wise or per-plane layer).
    public func forEachBlock(_ count: Int, work: Int, _ body: @escaping (Range<Int>) -> Void) {
        guard active > 1 && count > 1 && work >= ComputeThreads.parallelMinimumWork else {
            body(0..<count)
            return
        }
        let blocks = ComputeThreads.ranges(count, parts: 4 * active)
        forEach(blocks.count) { block, _ in body(blocks[block]) }
    }

    /// `0..<count` cut into at most `parts` consecutive ranges of nearly equal size (the first ones
    /// one longer), for a ``forEach(_:_:)`` over blocks of channels, planes or values.
    public static func ranges(_ count: Int, parts: Int) -> [Range<Int>] {
        let parts = max(1, min(parts, count))
        let base = count / parts, extra = count % parts
        var ranges: [Range<Int>] = [], start = 0
        for part in 0..<parts {
            let size = base + (part < extra ? 1 : 0)
            ranges.append(start..<(start + size))
            start += size
        }
        return ranges
    }
}

/// The state the caller and the workers share. `region` packs the region's generation (bits 20 and up),
/// whether it is closed (bit 19) and how many threads are working on it (bits 0-18).
private final class Shared: @unchecked Sendable {
    static let closedBit = 1 << 19
    static let activeMask = closedBit - 1
    static let generationShift = 20

    let region = Atomic<Int>(closedBit)
    let nextTask = Atomic<Int>(0)
    let inUse = Atomic<Bool>(false)
    let sleepers = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    let joins = Atomic<Int>(0)
    let callerWaitNanoseconds = Atomic<Int>(0)
    /// Workers with an index below it join regions (``ComputeThreads/active``).
    let active = Atomic<Int>(1)
    /// Written by the caller before a region opens, read by the workers that joined it.
    var body: ((Int) -> Void)?
    var control: UInt64 = 0
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Where inactive workers wait (``ComputeThreads/setActive(_:)`` wakes them).
    let parked = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Where the caller waits for the workers of a closed region (the last to leave wakes it).
    let finished = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        for c in [condition, parked, finished] { pthread_cond_init(c, nil) }
    }

    deinit {
        for c in [condition, parked, finished] {
            pthread_cond_destroy(c)
            c.deallocate()
        }
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    static func generation(_ word: Int) -> Int { word >> generationShift }

    func open(_ body: @escaping (Int) -> Void, control: UInt64) {
        precondition(!inUse.exchange(true, ordering: .acquiring),
                     "ComputeThreads: a second computation entered while a region was open")
        self.body = body
        self.control = control
        let next = Shared.generation(region.load(ordering: .relaxed)) + 1
        region.store(next << Shared.generationShift, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 { wakeAll() }
    }

    func closeAndWait() {
        region.bitwiseOr(Shared.closedBit, ordering: .sequentiallyConsistent)
        if region.load(ordering: .acquiring) & Shared.activeMask != 0 {
            let start = SpinWait.threadCPUNanoseconds()
            var spin = SpinWait()
            while region.load(ordering: .acquiring) & Shared.activeMask != 0 && spin.keepSpinning() {}
            if region.load(ordering: .acquiring) & Shared.activeMask != 0 {
                pthread_mutex_lock(mutex)
                while region.load(ordering: .sequentiallyConsistent) & Shared.activeMask != 0 {
                    pthread_cond_wait(finished, mutex)
                }
                pthread_mutex_unlock(mutex)
            }
            countCallerWait(since: start)
        }
        body = nil
        inUse.store(false, ordering: .releasing)
    }

    func countCallerWait(since start: Int) {
        callerWaitNanoseconds.wrappingAdd(SpinWait.threadCPUNanoseconds() - start, ordering: .relaxed)
    }

    /// Joins region `generation` if it is still open.
    func enter(_ generation: Int) -> Bool {
        var word = region.load(ordering: .acquiring)
        while Shared.generation(word) == generation && word & Shared.closedBit == 0 {
            let (exchanged, current) = region.compareExchange(expected: word, desired: word + 1,
                                                              ordering: .acquiringAndReleasing)
            if exchanged {
                joins.wrappingAdd(1, ordering: .relaxed)
                return true
            }
            word = current
        }
        return false
    }

    /// Leaves the region; the last thread to leave a closed region wakes the caller (which may sleep).
    func leave() {
        let word = region.wrappingSubtract(1, ordering: .sequentiallyConsistent).newValue
        if word & Shared.closedBit != 0 && word & Shared.activeMask == 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_signal(finished)
            pthread_mutex_unlock(mutex)
        }
    }

    /// For worker `index`: the first generation after `seen` once the worker is active, or nil once the
    /// pool is shut down. Spins, yields, then sleeps; an inactive worker sleeps at once.
    func awaitRegion(after seen: Int, index: Int) -> Int? {
        var spin = SpinWait()
        while spin.keepSpinning() {
            if stopping.load(ordering: .relaxed) { return nil }
            if index >= active.load(ordering: .relaxed) { break }
            let generation = Shared.generation(region.load(ordering: .acquiring))
            if generation != seen { return generation }
        }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            if stopping.load(ordering: .sequentiallyConsistent) { return nil }
            if index >= active.load(ordering: .sequentiallyConsistent) {
                pthread_cond_wait(parked, mutex)  // until setActive lets it in
                continue
            }
            // counted before reading the generation, so an opening region sees it and wakes it
            sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
            let generation = Shared.generation(region.load(ordering: .sequentiallyConsistent))
            if generation != seen {
                sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
                return generation
            }
            pthread_cond_wait(condition, mutex)
            sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
        }
    }

    func wakeAll() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    func wakeParked() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(parked)
        pthread_mutex_unlock(mutex)
    }

    func shutDown() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        wakeAll()
        wakeParked()
    }
}

/// One worker thread: waits for a region, joins it if it is still open, runs the body under the
/// caller's floating-point control word, and leaves.
private final class Worker {
    let shared: Shared
    let index: Int

    private init(shared: Shared, index: Int) {
        self.shared = shared
        self.index = index
    }

    static func start(shared: Shared, index: Int) {
        let context = Unmanaged.passRetained(Worker(shared: shared, index: index)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            Unmanaged<Worker>.fromOpaque(raw!).takeRetainedValue().loop()
            return nil
        }, context)
        precondition(status == 0, "ComputeThreads: pthread_create failed (\(status))")
        pthread_detach(thread)
    }

    private func loop() {
        FloatingPointMode.flushDenormals()
        var seen = 0  // workers start before the first region (generation 1)
        while let generation = shared.awaitRegion(after: seen, index: index) {
            seen = generation
            guard shared.enter(generation) else { continue }
            FloatingPointMode.control = shared.control
            shared.body?(index)
            shared.leave()
        }
    }
}

extension ComputeThreads {
    /// Runs `tasks` tasks of three steps each over the threads that join: `prepare(task, slot, worker)`;
    /// after it, `ordered(task, slot)`, in task order and one at a time (a reduction kept in its
    /// single-thread order, such as a weight gradient summed chunk after chunk), and
    /// `independent(task, slot, worker)`, which may run while the ordered steps of this and other tasks
    /// run. Task `t` owns workspace slot `t % slots` from its `prepare` until both its later steps have
    /// finished; task `t + slots` waits for it. With one ``active`` thread: `prepare`, `independent`,
    /// `ordered` for task 0, then task 1, and so on.
    public func pipeline(_ tasks: Int, slots: Int,
                         prepare: @escaping (_ task: Int, _ slot: Int, _ worker: Int) -> Void,
                         ordered: @escaping (_ task: Int, _ slot: Int) -> Void,
                         independent: @escaping (_ task: Int, _ slot: Int, _ worker: Int) -> Void) {
        precondition(slots >= 1, "ComputeThreads.pipeline: slots must be >= 1, got \(slots)")
        if active == 1 || tasks <= 1 {
            for task in 0..<tasks {
                prepare(task, task % slots, 0)
                independent(task, task % slots, 0)
                ordered(task, task % slots)
            }
            return
        }
        let schedule = PipelineSchedule(tasks: tasks, slots: slots)
        let shared = self.shared
        run { worker in
            while true {
                switch schedule.next(countingWaitsIn: worker == 0 ? shared : nil) {
                case .ordered(let task):
                    ordered(task, task % slots)
                    schedule.finishOrdered(task)
                case .prepare(let task):
                    prepare(task, task % slots, worker)
                    schedule.finishPrepare(task)
                    independent(task, task % slots, worker)
                    schedule.finishIndependent(task)
                case .done:
                    return
                }
            }
        }
    }
}

/// What ``ComputeThreads/pipeline(_:slots:prepare:ordered:independent:)`` has handed out. A thread
/// waits (spins, then sleeps until a step finishes) only while others hold claimed steps, and the last
/// thread to finish a step finds every step done or one it can claim, so the tasks always finish, on
/// any number of threads.
private final class PipelineSchedule: @unchecked Sendable {
    enum Step { case ordered(Int), prepare(Int), done }
    let tasks: Int, slots: Int
    // Guarded by `mutex`:
    private var nextPrepare = 0
    private var nextOrdered = 0
    private var orderedBusy = false
    private var prepared: [Bool]
    /// Finished later steps per task (ordered and independent): its slot is free at 2.
    private var finished: [UInt8]
    private var sleepers = 0
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init(tasks: Int, slots: Int) {
        self.tasks = tasks
        self.slots = slots
        prepared = Array(repeating: false, count: tasks)
        finished = Array(repeating: 0, count: tasks)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    /// The next step for the calling thread, waiting while none can be claimed: the ordered step when
    /// its task is prepared (the chain first: it is the critical path), else the next task's
    /// preparation when its slot is free, or `.done` when every step is claimed. The caller's waits count
    /// in `shared` (``ComputeThreads/callerWaitSeconds``).
    func next(countingWaitsIn shared: Shared?) -> Step {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if let step = claim() { return step }
        let start = shared == nil ? 0 : SpinWait.threadCPUNanoseconds()
        defer { shared?.countCallerWait(since: start) }
        var spin = SpinWait()
        while true {
            if let step = claim() { return step }
            if spin.keepSpinning() {  // the step in hand elsewhere is often about to finish
                pthread_mutex_unlock(mutex)
                pthread_mutex_lock(mutex)
                continue
            }
            sleepers += 1
            pthread_cond_wait(changed, mutex)
            sleepers -= 1
        }
    }

    /// Under `mutex`.
    private func claim() -> Step? {
        if !orderedBusy && nextOrdered < tasks && prepared[nextOrdered] {
            orderedBusy = true
            return .ordered(nextOrdered)
        }
        if nextPrepare < tasks && (nextPrepare < slots || finished[nextPrepare - slots] == 2) {
            nextPrepare += 1
            return .prepare(nextPrepare - 1)
        }
        return nextOrdered == tasks && nextPrepare == tasks ? .done : nil
    }

    private func update(_ change: () -> Void) {
        pthread_mutex_lock(mutex)
        change()
        if sleepers > 0 { pthread_cond_broadcast(changed) }
        pthread_mutex_unlock(mutex)
    }

    func finishPrepare(_ task: Int) { update { prepared[task] = true } }
    func finishIndependent(_ task: Int) { update { finished[task] += 1 } }
    func finishOrdered(_ task: Int) {
        update {
            orderedBusy = false
            nextOrdered += 1
            finished[task] += 1
        }
    }
}

/// A waiting thread's spin: `keepSpinning()` is true for the first 64 checks, then true with the core
/// yielded (`sched_yield`: on an idle core it returns at once, on a shared one it lets the thread that
/// is waited for run) until ``ComputeThreads/spinSeconds`` have passed, then false: time to sleep.
struct SpinWait {
    private var checks = 0
    private var deadline: UInt64 = 0

    mutating func keepSpinning() -> Bool {
        checks += 1
        if checks <= 64 { return true }
        let now = SpinWait.nanoseconds()
        if deadline == 0 { deadline = now + UInt64(ComputeThreads.spinSeconds * 1e9) }
        if now >= deadline { return false }
        sched_yield()
        return true
    }

    private static func nanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    /// The calling thread's CPU time.
    static func threadCPUNanoseconds() -> Int {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return t.tv_sec * 1_000_000_000 + t.tv_nsec
    }
}
