@testable import TensorCore
import XCTest

/// ``BLAS/gemm`` (``SmallGemm`` for the small shapes it takes, OpenBLAS otherwise) against
/// a plain Double triple loop, for every transpose combination, `alpha`/`beta`, and shapes on
/// both sides of the limits.
final class SmallGemmTests: XCTestCase {
    /// `C = alpha * op(A) op(B) + beta * C` in Double, the definition itself.
    private func reference(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                           _ a: [Float], _ b: [Float], _ beta: Float, _ c: [Float]) -> (values: [Double], scale: [Double]) {
        var out = [Double](repeating: 0, count: m * n), scale = out
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0, magnitude = 0.0
                for p in 0..<k {
                    let x = Double(ta ? a[p * m + i] : a[i * k + p]), y = Double(tb ? b[j * k + p] : b[p * n + j])
                    sum += x * y
                    magnitude += abs(x * y)
                }
                out[i * n + j] = Double(alpha) * sum + Double(beta) * Double(c[i * n + j])
                scale[i * n + j] = abs(Double(alpha)) * magnitude + abs(Double(beta) * Double(c[i * n + j]))
            }
        }
        return (out, scale)
    }

    func testAgreesWithDoubleReferenceForSmallAndLargeShapes() {
        var rng = RandomGenerator(seed: 7)
        let shapes = [(1, 1, 1), (1, 7, 13), (2, 128, 784), (2, 30, 17), (3, 9, 515), (4, 33, 517), (5, 10, 600),
                      (8, 3, 512), (7, 5, 513), (9, 20, 512), (128, 784, 2), (16, 256, 3), (33, 20, 4), (9, 17, 5),
                      (7, 6, 5), (1, 3, 100)]
        for (m, n, k) in shapes {
            for ta in [false, true] {
                for tb in [false, true] {
                    for (alpha, beta) in [(Float(1), Float(0)), (1, 1), (0.5, -2)] {
                        let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
                        let b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
                        let c0 = (0..<(m * n)).map { _ in rng.uniform(-1, 1) }
                        var c = c0
                        BLAS.gemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: alpha,
                                  a: a, aCount: a.count, b: b, bCount: b.count, beta: beta, c: &c, cCount: c.count)
                        let (expected, scale) = reference(ta, tb, m, n, k, alpha, a, b, beta, c0)
                        for i in 0..<(m * n) {
                            // float products and sums: error <= ~k ulps of the sum of magnitudes
                            XCTAssertEqual(Double(c[i]), expected[i], accuracy: 1e-6 * Double(k + 2) * scale[i] + 1e-30,
                                           "m=\(m) n=\(n) k=\(k) ta=\(ta) tb=\(tb) alpha=\(alpha) beta=\(beta) at \(i)")
                        }
                    }
                }
            }
        }
    }

    func testSmallShapesAreTheOnesRoutedToSmallGemm() {
        XCTAssertTrue(SmallGemm.handles(transposeA: false, transposeB: true, m: 2, k: 128))    // x W^T at batch 2
        XCTAssertTrue(SmallGemm.handles(transposeA: false, transposeB: true, m: 8, k: 784))
        XCTAssertFalse(SmallGemm.handles(transposeA: false, transposeB: true, m: 8, k: 128))   // OpenBLAS is faster
        XCTAssertFalse(SmallGemm.handles(transposeA: false, transposeB: true, m: 9, k: 784))
        XCTAssertFalse(SmallGemm.handles(transposeA: true, transposeB: true, m: 2, k: 784))
        XCTAssertTrue(SmallGemm.handles(transposeA: true, transposeB: false, m: 128, k: 4))    // dW += dy^T x
        XCTAssertFalse(SmallGemm.handles(transposeA: true, transposeB: false, m: 128, k: 8))
        XCTAssertTrue(SmallGemm.handles(transposeA: false, transposeB: false, m: 2, k: 128))   // dy W
        XCTAssertFalse(SmallGemm.handles(transposeA: false, transposeB: false, m: 16, k: 9))   // a convolution
    }
}
