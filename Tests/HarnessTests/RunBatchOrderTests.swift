import Charts
import SpecFormat
import TensorCore
import XCTest

/// `BatchOrder.batches` on 10 labels: class 0 at 1, 3, 7, 9; class 1 at 2, 5, 6; class 2 at 0, 4, 8.
final class RunBatchOrderTests: XCTestCase {
    static let labels: [Int32] = [2, 0, 1, 0, 2, 1, 1, 0, 2, 0]

    func testSortedIsByLabelThenIndexAndTheSameEveryEpoch() {
        var rng = RandomGenerator(seed: 1)
        let all = BatchOrder.sorted.batches(labels: Self.labels, batchSize: 3, dropLast: false, rng: &rng)
        XCTAssertEqual(all, [[1, 3, 7], [9, 2, 5], [6, 0, 4], [8]])
        XCTAssertEqual(BatchOrder.sorted.batches(labels: Self.labels, batchSize: 3, dropLast: true, rng: &rng),
                       [[1, 3, 7], [9, 2, 5], [6, 0, 4]])
        XCTAssertEqual(BatchOrder.sorted.batches(labels: Self.labels, batchSize: 3, dropLast: false, rng: &rng), all)
    }

    func testClassBlockedBatchesHoldOneClassAndDropEachClassRemainder() {
        var rng = RandomGenerator(seed: 2)
        let dropped = BatchOrder.classBlocked.batches(labels: Self.labels, batchSize: 2, dropLast: true, rng: &rng)
        // class 0: 4 -> 2 batches; classes 1 and 2: 3 -> 1 batch each, 1 left over each
        XCTAssertEqual(dropped.count, 4)
        XCTAssertTrue(dropped.allSatisfy { $0.count == 2 })
        XCTAssertEqual(dropped.map { Set($0.map { Self.labels[$0] }).count }, [1, 1, 1, 1])
        XCTAssertEqual(dropped.map { Self.labels[$0[0]] }.sorted(), [0, 0, 1, 2])
        XCTAssertEqual(Set(dropped.flatMap { $0 }).count, 8, "no sample twice")

        let kept = BatchOrder.classBlocked.batches(labels: Self.labels, batchSize: 2, dropLast: false, rng: &rng)
        XCTAssertEqual(kept.map(\.count).sorted(), [1, 1, 2, 2, 2, 2])
        XCTAssertTrue(kept.allSatisfy { Set($0.map { Self.labels[$0] }).count == 1 })
        XCTAssertEqual(kept.flatMap { $0 }.sorted(), Array(0..<10))
    }

    func testShuffledIsAPermutationThatChangesEveryEpoch() {
        var rng = RandomGenerator(seed: 3)
        let first = BatchOrder.shuffled.batches(labels: Self.labels, batchSize: 4, dropLast: false, rng: &rng)
        let second = BatchOrder.shuffled.batches(labels: Self.labels, batchSize: 4, dropLast: false, rng: &rng)
        XCTAssertEqual(first.map(\.count), [4, 4, 2])
        XCTAssertEqual(first.flatMap { $0 }.sorted(), Array(0..<10))
        XCTAssertEqual(second.flatMap { $0 }.sorted(), Array(0..<10))
        XCTAssertNotEqual(first, second)
        XCTAssertNotEqual(first.flatMap { $0 }, Array(0..<10))

        let dropped = BatchOrder.shuffled.batches(labels: Self.labels, batchSize: 3, dropLast: true, rng: &rng)
        XCTAssertEqual(dropped.map(\.count), [3, 3, 3])
        XCTAssertEqual(Set(dropped.flatMap { $0 }).count, 9)
    }

    func testTheSameSeedGivesTheSameOrder() {
        for order in BatchOrder.allCases {
            var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
            XCTAssertEqual(order.batches(labels: Self.labels, batchSize: 3, dropLast: false, rng: &a),
                           order.batches(labels: Self.labels, batchSize: 3, dropLast: false, rng: &b), "\(order)")
        }
    }
}
