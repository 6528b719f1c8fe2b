import XCTest
import Charts
import Datasets
import Experiment
import TensorCore

final class DataSplitTests: XCTestCase {
    /// 10 classes of 500, sorted, like mnist_5k.
    static let sortedLabels = (0..<5000).map { Int32($0 / 500) }

    func testDisjointAndExactlyBalancedOnEqualClasses() throws {
        var rng = RandomGenerator(seed: 1)
        let (train, test) = try stratifiedSplit(labels: Self.sortedLabels, trainCount: 4000, testCount: 1000, rng: &rng)
        XCTAssertEqual(train.count, 4000)
        XCTAssertEqual(test.count, 1000)
        XCTAssertEqual(Set(train).count, 4000)
        XCTAssertTrue(Set(train).isDisjoint(with: test))
        XCTAssertEqual(Set(train + test), Set(0..<5000))
        XCTAssertEqual(classCounts(train, Self.sortedLabels, 10), [Int](repeating: 400, count: 10))
        XCTAssertEqual(classCounts(test, Self.sortedLabels, 10), [Int](repeating: 100, count: 10))
    }

    func testOrderDoesNotLeakTheSortedLabels() throws {
        var rng = RandomGenerator(seed: 2)
        let (train, test) = try stratifiedSplit(labels: Self.sortedLabels, trainCount: 1000, testCount: 500, rng: &rng)
        for indices in [train, test] {
            XCTAssertNotEqual(indices, indices.sorted())
            // The first 50 drawn span (almost surely) at least 8 of the 10 classes.
            XCTAssertGreaterThanOrEqual(Set(indices.prefix(50).map { Self.sortedLabels[$0] }).count, 8)
        }
    }

    func testDeterministicForASeedAndDifferentAcrossSeeds() throws {
        func split(_ seed: UInt64) throws -> [[Int]] {
            var rng = RandomGenerator(seed: seed)
            let (train, test) = try stratifiedSplit(labels: Self.sortedLabels, trainCount: 300, testCount: 200, rng: &rng)
            return [train, test]
        }
        XCTAssertEqual(try split(7), try split(7))
        XCTAssertNotEqual(try split(7)[0], try split(8)[0])
        XCTAssertNotEqual(try split(7)[1], try split(8)[1])
    }

    /// Every class within one sample of its exact share `count * n_c / N`, for train and test,
    /// on many unbalanced label sets and counts (the whole set included).
    func testUnbalancedClassesStayWithinOneSampleOfTheirShare() throws {
        var draws = RandomGenerator(seed: 3)
        for _ in 0..<300 {
            let classSizes = (0..<(1 + draws.nextInt(below: 6))).map { _ in 1 + draws.nextInt(below: 40) }
            let labels = classSizes.enumerated().flatMap { c, size in [Int32](repeating: Int32(c * 2), count: size) }
            let trainCount = draws.nextInt(below: labels.count + 1)
            let testCount = draws.nextInt(below: labels.count - trainCount + 1)
            var rng = draws.derived("split")
            let (train, test) = try stratifiedSplit(labels: labels, trainCount: trainCount, testCount: testCount, rng: &rng)
            XCTAssertEqual(train.count, trainCount)
            XCTAssertEqual(test.count, testCount)
            XCTAssertTrue(Set(train).isDisjoint(with: test))
            for (indices, total) in [(train, trainCount), (test, testCount)] {
                let counts = classCounts(indices, labels, 2 * classSizes.count)
                for (c, size) in classSizes.enumerated() {
                    let share = Double(total * size) / Double(labels.count)
                    XCTAssertLessThan(abs(Double(counts[2 * c]) - share), 1.0 + 1e-12,
                                      "sizes \(classSizes), train \(trainCount), test \(testCount), class \(c)")
                }
            }
        }
    }

    func testLargestRemainderRoundingIsExact() throws {
        // Classes of 5, 3, 2 and 10 samples; train 7: shares 1.75, 1.05, 0.7, 3.5 -> floors 1, 1, 0, 3
        // and the two leftover samples go to the largest remainders 0.75 and 0.7.
        let labels = [Int32](repeating: 0, count: 5) + [Int32](repeating: 1, count: 3)
            + [Int32](repeating: 2, count: 2) + [Int32](repeating: 3, count: 10)
        var rng = RandomGenerator(seed: 4)
        let (train, test) = try stratifiedSplit(labels: labels, trainCount: 7, testCount: 0, rng: &rng)
        XCTAssertEqual(classCounts(train, labels, 4), [2, 1, 1, 3])
        XCTAssertEqual(test, [])
    }

    func testTooManyRequestedIsAnError() {
        var rng = RandomGenerator(seed: 5)
        let error = assertDatasetError(try stratifiedSplit(labels: Self.sortedLabels, trainCount: 4500, testCount: 501,
                                                           rng: &rng),
                                       path: "stratifiedSplit", message: "cannot draw 4500 train + 501 test samples "
                                           + "from 5000 available")
        XCTAssertEqual(error?.description,
                       "stratifiedSplit: error: cannot draw 4500 train + 501 test samples from 5000 available")
        assertDatasetError(try stratifiedSplit(labels: [0, 1], trainCount: -1, testCount: 1, rng: &rng),
                           path: "stratifiedSplit", message: "cannot draw -1 train")
    }

    private func classCounts(_ indices: [Int], _ labels: [Int32], _ classCount: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for i in indices { counts[Int(labels[i])] += 1 }
        return counts
    }
}
