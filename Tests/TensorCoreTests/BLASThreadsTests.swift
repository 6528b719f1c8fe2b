@testable import TensorCore
import XCTest

/// OpenBLAS computes on the calling thread alone (``BLAS``), large GEMMs included, so the parallel
/// kernels' GEMMs are those of one thread.
final class BLASThreadsTests: XCTestCase {
    func testOpenBLASRunsOneThreadFromTheFirstGemmOn() {
        let n = 160  // 160^3 = 4,096,000 multiply-adds: OpenBLAS would wake its threads for it
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 2, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        BLAS.gemm(m: n, n: n, k: n, a: a, aCount: a.count, b: b, bCount: b.count, c: &c, cCount: c.count)
        XCTAssertEqual(BLAS.openBLASThreads, 1)
        XCTAssertEqual(c[n * n - 1], Float(n), "sum of 160 products 0.5 * 2")
    }
}
