import XCTest
import TensorCore

/// The storage contract of `Tensor`: resizing within capacity keeps the buffer, copies are
/// real copies.
final class TensorTests: XCTestCase {
    func testInitializers() {
        XCTAssertEqual(Tensor(Shape(2, 3)).array, [0, 0, 0, 0, 0, 0])
        let t = Tensor(Shape(1, 2, 1, 2), [1, 2, 3, 4])
        XCTAssertEqual(t.array, [1, 2, 3, 4])
        XCTAssertEqual(t.shape, Shape(1, 2, 1, 2))
        XCTAssertEqual(t[2], 3)
        XCTAssertEqual(Tensor().count, 0)
    }

    func testResizeKeepsCapacityAndGrowsOnlyWhenNeeded() {
        let t = Tensor(Shape(4, 3))
        let buffer = t.data
        t.resize(to: Shape(2, 3))
        XCTAssertEqual(t.count, 6)
        XCTAssertEqual(t.capacity, 12, "shrinking keeps the allocation")
        XCTAssertEqual(t.data, buffer)
        t.resize(to: Shape(3, 2, 1, 2))
        XCTAssertEqual(t.capacity, 12)
        XCTAssertEqual(t.data, buffer, "growing within capacity keeps the buffer")
        t.resize(to: Shape(5, 3))
        XCTAssertEqual(t.count, 15)
        XCTAssertGreaterThanOrEqual(t.capacity, 15)
        t.fill(2)
        XCTAssertEqual(t.array, [Float](repeating: 2, count: 15), "the grown buffer is fully usable")
    }

    func testReshapeKeepsValues() {
        let t = Tensor(Shape(2, 1, 2, 1), [1, 2, 3, 4])
        t.reshape(to: Shape(2, 2))
        XCTAssertEqual(t.shape, Shape(2, 2))
        XCTAssertEqual(t.array, [1, 2, 3, 4])
    }

    func testCopyIsARealCopy() {
        let t = Tensor(Shape(2, 2), [1, 2, 3, 4])
        let c = t.copy()
        XCTAssertNotEqual(c.data, t.data)
        t[0] = 9
        t.resize(to: Shape(1, 2))
        XCTAssertEqual(c.array, [1, 2, 3, 4])
        XCTAssertEqual(c.shape, Shape(2, 2))
        c[1] = 7
        XCTAssertEqual(t.array, [9, 2])
    }

    func testAssignResizesAndCopies() {
        let source = Tensor(Shape(3), [1, 2, 3])
        let target = Tensor(Shape(1))
        target.assign(source)
        XCTAssertEqual(target.shape, Shape(3))
        XCTAssertEqual(target.array, [1, 2, 3])
        source[0] = 5
        XCTAssertEqual(target[0], 1)
    }

    func testShapeArithmetic() {
        let s = Shape(2, 3, 4, 5)
        XCTAssertEqual([s.batch, s.channels, s.spatial, s.perSample, s.count], [2, 3, 20, 60, 120])
        XCTAssertEqual(s.withBatch(7), Shape(7, 3, 4, 5))
        XCTAssertEqual(Shape(4, 6).spatial, 1)
        XCTAssertEqual(Shape(4, 6).perSample, 6)
        XCTAssertEqual(Shape(5).count, 5)
        XCTAssertEqual(s.description, "(2, 3, 4, 5)")
    }
}
