import Foundation
@testable import TensorCore
import XCTest

/// ``ComputeThreads``: every task runs once on any number of joining threads, the pipeline keeps its
/// ordered steps in order, and the workers compute under the caller's flush-to-zero and
/// denormals-are-zero modes.
final class ComputeThreadsTests: XCTestCase {
    private static let pools: [(String, ComputeThreads)] = [
        ("serial", .serial), ("2 threads", ComputeThreads(count: 2)), ("3 threads", ComputeThreads(count: 3)),
        ("3 workspaces, caller alone", ComputeThreads(count: 3, startedWorkers: 0)),
    ]

    /// Records from several threads at once.
    private final class Log<T>: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [T] = []
        func append(_ item: T) { lock.lock(); items.append(item); lock.unlock() }
        var all: [T] { lock.lock(); defer { lock.unlock() }; return items }
    }

    func testForEachRunsEveryTaskOnceWithAWorkerIndexInRange() {
        for (name, threads) in Self.pools {
            for tasks in [0, 1, 7, 1_000] {
                let log = Log<(task: Int, worker: Int)>()
                threads.forEach(tasks) { task, worker in log.append((task, worker)) }
                XCTAssertEqual(log.all.map(\.task).sorted(), Array(0..<tasks), "\(name), \(tasks) tasks")
                XCTAssertTrue(log.all.allSatisfy { (0..<threads.count).contains($0.worker) }, name)
            }
        }
    }

    func testPipelineRunsOrderedStepsInTaskOrderAfterTheirPreparation() {
        enum Event: Equatable { case prepare(Int, slot: Int), ordered(Int), independent(Int), orderedEnd(Int) }
        for (name, threads) in Self.pools {
            let tasks = 40, slots = 3
            let log = Log<Event>()
            threads.pipeline(tasks, slots: slots, prepare: { task, slot, _ in
                log.append(.prepare(task, slot: slot))
                if task % 5 == 0 { usleep(200) }  // uneven steps, so the threads interleave
            }, ordered: { task, _ in
                log.append(.ordered(task))
                if task % 7 == 0 { usleep(300) }
                log.append(.orderedEnd(task))
            }, independent: { task, _, _ in
                log.append(.independent(task))
            })
            let events = log.all
            XCTAssertEqual(events.count, 4 * tasks, name)
            let ordered = events.compactMap { if case .ordered(let t) = $0 { return t } else { return nil } }
            XCTAssertEqual(ordered, Array(0..<tasks), "\(name): ordered steps in task order")
            var open: Int? = nil
            for event in events {  // ordered steps one at a time
                switch event {
                case .ordered(let t): XCTAssertNil(open, name); open = t
                case .orderedEnd(let t): XCTAssertEqual(open, t, name); open = nil
                default: break
                }
            }
            func position(_ e: Event) -> Int { events.firstIndex(of: e)! }
            for t in 0..<tasks {
                let prepared = position(.prepare(t, slot: t % slots))
                XCTAssertLessThan(prepared, position(.ordered(t)), "\(name): task \(t) prepared before its ordered step")
                XCTAssertLessThan(prepared, position(.independent(t)), "\(name): task \(t) prepared before its own step")
                if t >= slots {  // the slot is reused only when task t - slots is done with it
                    XCTAssertLessThan(position(.orderedEnd(t - slots)), prepared, "\(name): slot of task \(t)")
                    XCTAssertLessThan(position(.independent(t - slots)), prepared, "\(name): slot of task \(t)")
                }
            }
        }
    }

    /// Each joining worker reports its modes; worker 0 waits (up to 10 s) until every worker joined.
    private func modesOfEveryWorker(_ threads: ComputeThreads) -> [Int: (flushed: Bool, halfOfTiny: Float)] {
        let log = Log<(Int, Bool, Float)>()
        threads.run { worker in
            let tiny = Self.opaque(Float.leastNormalMagnitude)
            log.append((worker, FloatingPointMode.denormalsFlushed, tiny * Self.opaque(0.5)))
            guard worker == 0 else { return }
            let deadline = Date().addingTimeInterval(10)
            while log.all.count < threads.count && Date() < deadline { usleep(100) }
        }
        return Dictionary(log.all.map { ($0.0, ($0.1, $0.2)) }, uniquingKeysWith: { a, _ in a })
    }

    @inline(never) private static func opaque(_ x: Float) -> Float { x }

    func testWorkersComputeUnderTheCallersFlushToZeroAndDenormalsAreZero() {
        let threads = ComputeThreads(count: 3)
        let flushed = FloatingPointMode.withDenormalsFlushed { modesOfEveryWorker(threads) }
        XCTAssertEqual(flushed.keys.sorted(), [0, 1, 2], "every worker joined")
        for (worker, modes) in flushed {
            XCTAssertTrue(modes.flushed, "worker \(worker): FTZ and DAZ set")
            XCTAssertEqual(modes.halfOfTiny, 0, "worker \(worker): the denormal result is flushed")
        }
        // A caller without them: the workers follow it (no number depends on which thread computes).
        let unflushed = FloatingPointMode.withDenormalsKept { modesOfEveryWorker(threads) }
        XCTAssertEqual(unflushed.keys.sorted(), [0, 1, 2], "every worker joined")
        for (worker, modes) in unflushed {
            XCTAssertFalse(modes.flushed, "worker \(worker): modes of the caller")
            XCTAssertEqual(modes.halfOfTiny, Float.leastNormalMagnitude / 2, "worker \(worker): a denormal result")
        }
    }

    func testRangesCoverTheCountInNearlyEqualConsecutiveParts() {
        XCTAssertEqual(ComputeThreads.ranges(10, parts: 3), [0..<4, 4..<7, 7..<10])
        XCTAssertEqual(ComputeThreads.ranges(2, parts: 5), [0..<1, 1..<2])
        XCTAssertEqual(ComputeThreads.ranges(0, parts: 3), [0..<0])
    }

    /// Only the first ``ComputeThreads/active`` threads join; raising it lets the others in.
    func testOnlyTheActiveThreadsJoinAndRaisingTheCountLetsTheOthersIn() {
        let threads = ComputeThreads(count: 3, active: 1)
        let alone = Log<Int>()
        threads.forEach(200) { _, worker in alone.append(worker) }
        XCTAssertEqual(Set(alone.all), [0], "one active thread: the caller alone")
        threads.setActive(2)
        let two = Log<Int>()
        for _ in 0..<20 { threads.forEach(50) { _, worker in two.append(worker); usleep(20) } }
        XCTAssertFalse(two.all.contains(2), "worker 2 is not active")
        threads.setActive(5)
        XCTAssertEqual(threads.active, 3, "clamped to the count")
        XCTAssertEqual(modesOfEveryWorker(threads).keys.sorted(), [0, 1, 2], "all three join")
    }
}
