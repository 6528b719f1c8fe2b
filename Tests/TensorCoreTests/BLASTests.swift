import XCTest
import TensorCore

/// `BLAS.gemm` against a naive triple loop in Double, for every transpose combination,
/// odd sizes, alpha != 1 and beta 0 / 1.
final class BLASTests: XCTestCase {
    private func values(_ count: Int, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        return (0..<count).map { _ in rng.uniform(-1, 1) }
    }

    /// `alpha * op(A) op(B) + beta * C` and, per entry, `|alpha| sum |a b| + |beta c|`.
    private func naive(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                       a: [Float], b: [Float], beta: Double, c: [Float]) -> (values: [Double], scale: [Double]) {
        var values = [Double](repeating: 0, count: m * n), scale = values
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0, magnitude = 0.0
                for p in 0..<k {
                    let aValue = Double(transposeA ? a[p * m + i] : a[i * k + p])
                    let bValue = Double(transposeB ? b[j * k + p] : b[p * n + j])
                    sum += aValue * bValue
                    magnitude += abs(aValue * bValue)
                }
                let old = beta == 0 ? 0 : beta * Double(c[i * n + j])
                values[i * n + j] = alpha * sum + old
                scale[i * n + j] = abs(alpha) * magnitude + abs(old)
            }
        }
        return (values, scale)
    }

    func testGemmMatchesTheTripleLoop() {
        let sizes = [(1, 1, 1), (7, 5, 3), (33, 17, 9), (3, 33, 17)]  // (m, n, k)
        var seed: UInt64 = 0
        for (m, n, k) in sizes {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    for (alpha, beta) in [(1.0, 0.0), (1.0, 1.0), (-0.5, 1.0)] {
                        seed += 3
                        let a = values(m * k, seed: seed), b = values(k * n, seed: seed + 1)
                        // beta = 0 must ignore C completely, even NaN in it (BLAS's rule).
                        let c0 = beta == 0 ? [Float](repeating: .nan, count: m * n) : values(m * n, seed: seed + 2)
                        var c = c0
                        let cCount = c.count
                        a.withUnsafeBufferPointer { ap in
                            b.withUnsafeBufferPointer { bp in
                                c.withUnsafeMutableBufferPointer { cp in
                                    BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                              alpha: Float(alpha), a: ap.baseAddress!, aCount: a.count,
                                              b: bp.baseAddress!, bCount: b.count, beta: Float(beta),
                                              c: cp.baseAddress!, cCount: cCount)
                                }
                            }
                        }
                        let expected = naive(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                             alpha: alpha, a: a, b: b, beta: beta, c: c0)
                        // Float accumulation of k + 1 terms errs by at most (k + 1) u sum |terms|
                        // (u = 6e-8); allowed: twice that bound.
                        let bound = 2 * Double(k + 1) * 6e-8
                        for i in 0..<(m * n) {
                            XCTAssertEqual(Double(c[i]), expected.values[i], accuracy: bound * expected.scale[i],
                                           "m\(m) n\(n) k\(k) tA \(transposeA) tB \(transposeB) alpha \(alpha) beta \(beta) [\(i)]")
                        }
                    }
                }
            }
        }
    }

    func testGemmWithEmptyInnerDimensionScalesC() {
        // k = 0: op(A) op(B) is the zero matrix, so C = beta * C (and 0 for beta = 0, even over NaN).
        var c: [Float] = [1, -2, 3, .nan]
        let empty: [Float] = [0]
        empty.withUnsafeBufferPointer { e in
            c.withUnsafeMutableBufferPointer { cp in
                BLAS.gemm(m: 2, n: 1, k: 0, a: e.baseAddress!, aCount: 0, b: e.baseAddress!, bCount: 0,
                          beta: 0.5, c: cp.baseAddress!, cCount: 2)
                BLAS.gemm(m: 1, n: 2, k: 0, a: e.baseAddress!, aCount: 0, b: e.baseAddress!, bCount: 0,
                          beta: 0, c: cp.baseAddress! + 2, cCount: 2)
            }
        }
        XCTAssertEqual(c, [0.5, -1, 0, 0])
    }
}
