@testable import TensorCore
import XCTest

/// ``BLAS/gemm`` wakes OpenBLAS's threads only for GEMMs of at least
/// ``BLAS/parallelMinimumWork`` multiply-adds, and computes the same product either way.
final class BLASThreadsTests: XCTestCase {
    override func tearDown() { BLAS.setThreads(1) }

    func testSmallGemmsRunOnOneThreadLargeOnesOnTheRequestedCount() {
        BLAS.setThreads(2)
        XCTAssertEqual(BLAS.threads, 2)
        let n = 160  // 160^3 = 4,096,000 >= 2^21
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 2, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        BLAS.gemm(m: 4, n: 16, k: 16, a: a, aCount: a.count, b: b, bCount: b.count, c: &c, cCount: c.count)
        XCTAssertEqual(BLAS.openBLASThreads, 1, "small: one thread")
        XCTAssertEqual(c[0], 16, "sum of 16 products 0.5 * 2")
        BLAS.gemm(m: n, n: n, k: n, a: a, aCount: a.count, b: b, bCount: b.count, c: &c, cCount: c.count)
        XCTAssertEqual(BLAS.openBLASThreads, 2, "large: the requested threads")
        XCTAssertEqual(c[n * n - 1], Float(n), "sum of 160 products 0.5 * 2")
        XCTAssertEqual(BLAS.threads, 2, "the request stands after both")
    }
}
