/// GEMMs too small for OpenBLAS's packing to pay off, in Swift: a linear layer at batch 1-8
/// (`x W^T`, `dy W`, `dW += dy^T x`).
///
/// OpenBLAS packs both operands (and, for `beta = 0`, first zeroes `C` in a separate pass)
/// before multiplying; with a handful of rows, or an inner dimension of a few samples, that
/// costs more than the arithmetic. These loops read each operand once and write `C` once.
/// Which shapes come here was measured on the 2-core AMD EPYC (Zen 3) this project runs on,
/// with caches cold as in a training step (single thread, microseconds, ours vs OpenBLAS):
/// `A B^T`: (m, n, k) = (2, 128, 784) 22 vs 43, (8, 128, 784) 89 vs 120, (2, 128, 128) 7 vs 18,
/// but (8, 128, 128) 14 vs 8; `A^T B`, beta 0: (128, 784, 2) 28 vs 80, (128, 784, 4) 48 vs 88,
/// but (128, 784, 8) 163 vs 94; `A B`: (2, 128, 128) 11 vs 13, but (4, 128, 128) 9 vs 5 warm.
/// OpenBLAS's AVX2/FMA kernel wins as soon as there is arithmetic to do (Swift emits SSE2
/// here). Same contract as ``BLAS/gemm``; sums run in a different order from OpenBLAS's, so
/// results agree to float rounding.
enum SmallGemm {
    /// Whether ``gemm(transposeA:transposeB:m:n:k:alpha:a:b:beta:c:)`` takes this call.
    @inline(__always)
    static func handles(transposeA: Bool, transposeB: Bool, m: Int, k: Int) -> Bool {
        if transposeB { return !transposeA && (m <= 2 || (m <= 8 && k >= 512)) }
        return m <= 2 || k <= 4
    }

    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     a: UnsafePointer<Float>, b: UnsafePointer<Float>, beta: Float, c: UnsafeMutablePointer<Float>) {
        if transposeB {
            // C[i, j] = dot(A row i, B row j), B stored (n, k); rows of A in groups of four,
            // so B is read m/4 times.
            for first in stride(from: 0, to: m, by: 4) {
                let count = min(4, m - first), last = first + count - 1
                let rows = (a + first * k, a + min(first + 1, last) * k, a + min(first + 2, last) * k,
                            a + min(first + 3, last) * k)
                for j in 0..<n {
                    let d = count <= 2 ? dots2((rows.0, rows.1), b + j * k, count: k) : dots(rows, b + j * k, count: k)
                    for i in 0..<count {
                        let cij = c + (first + i) * n + j
                        cij.pointee = beta == 0 ? alpha * d[i] : alpha * d[i] + beta * cij.pointee
                    }
                }
            }
            return
        }
        // B stored (k, n): C row i = beta * C row i + alpha * sum_p A[i, p] * B row p, p in
        // blocks of up to 4. Blocks outside, rows inside: a block of B is read from memory once
        // (m <= 2: the C rows stay in cache; k <= 4: there is one block).
        // A[i, p] of op(A): stored (m, k) -> a[i*k + p]; transposed, stored (k, m) -> a[p*m + i].
        let aRow = transposeA ? 1 : k, aCol = transposeA ? m : 1
        var p = 0
        while p < k {
            let width = min(4, k - p)
            let scale = p == 0 ? beta : 1
            for i in 0..<m {
                var f: (Float, Float, Float, Float) = (0, 0, 0, 0)
                f.0 = alpha * a[i * aRow + p * aCol]
                if width > 1 { f.1 = alpha * a[i * aRow + (p + 1) * aCol] }
                if width > 2 { f.2 = alpha * a[i * aRow + (p + 2) * aCol] }
                if width > 3 { f.3 = alpha * a[i * aRow + (p + 3) * aCol] }
                axpy4(c + i * n, n: n, scale: scale, b + p * n, width: width, f)
            }
            p += width
        }
    }

    /// `c = scale * c + f.0 * b[0] + ... + f.(width-1) * b[width-1]` over `n` values,
    /// where `b[q]` is row `q` of a row-major `(width, n)` block. `scale == 0` ignores `c`,
    /// `scale == 1` skips the multiplication.
    @inline(__always)
    private static func axpy4(_ c: UnsafeMutablePointer<Float>, n: Int, scale: Float, _ b: UnsafePointer<Float>,
                              width: Int, _ f: (Float, Float, Float, Float)) {
        let b0 = b, b1 = b + n, b2 = b + 2 * n, b3 = b + 3 * n
        switch (width, scale == 0) {
        case (1, true): for j in 0..<n { c[j] = f.0 * b0[j] }
        case (1, false): for j in 0..<n { c[j] = scale * c[j] + f.0 * b0[j] }
        case (2, true): for j in 0..<n { c[j] = f.0 * b0[j] + f.1 * b1[j] }
        case (2, false): for j in 0..<n { c[j] = scale * c[j] + f.0 * b0[j] + f.1 * b1[j] }
        case (3, true): for j in 0..<n { c[j] = f.0 * b0[j] + f.1 * b1[j] + f.2 * b2[j] }
        case (3, false): for j in 0..<n { c[j] = scale * c[j] + f.0 * b0[j] + f.1 * b1[j] + f.2 * b2[j] }
        case (_, true): for j in 0..<n { c[j] = f.0 * b0[j] + f.1 * b1[j] + f.2 * b2[j] + f.3 * b3[j] }
        default: for j in 0..<n { c[j] = scale * c[j] + f.0 * b0[j] + f.1 * b1[j] + f.2 * b2[j] + f.3 * b3[j] }
        }
    }

    /// The two dot products `rows.q . y` (lanes 2 and 3 are zero); see ``dots(_:_:count:)``.
    @inline(__always)
    static func dots2(_ rows: (UnsafePointer<Float>, UnsafePointer<Float>), _ y: UnsafePointer<Float>,
                      count: Int) -> SIMD4<Float> {
        var s0 = SIMD8<Float>(repeating: 0), s1 = s0
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            s0 += UnsafeRawPointer(rows.0 + i).loadUnaligned(as: SIMD8<Float>.self) * v
            s1 += UnsafeRawPointer(rows.1 + i).loadUnaligned(as: SIMD8<Float>.self) * v
            i += 8
        }
        var d = SIMD4<Float>(s0.sum(), s1.sum(), 0, 0)
        while i < count {
            d += SIMD4<Float>(rows.0[i], rows.1[i], 0, 0) * y[i]
            i += 1
        }
        return d
    }

    /// The four dot products `rows.q . y` over `count` values, with eight partial sums each
    /// (vectorized); rows past the ones needed may repeat a row.
    @inline(__always)
    static func dots(_ rows: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                     _ y: UnsafePointer<Float>, count: Int) -> SIMD4<Float> {
        var s0 = SIMD8<Float>(repeating: 0), s1 = s0, s2 = s0, s3 = s0
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            s0 += UnsafeRawPointer(rows.0 + i).loadUnaligned(as: SIMD8<Float>.self) * v
            s1 += UnsafeRawPointer(rows.1 + i).loadUnaligned(as: SIMD8<Float>.self) * v
            s2 += UnsafeRawPointer(rows.2 + i).loadUnaligned(as: SIMD8<Float>.self) * v
            s3 += UnsafeRawPointer(rows.3 + i).loadUnaligned(as: SIMD8<Float>.self) * v
            i += 8
        }
        var d = SIMD4<Float>(s0.sum(), s1.sum(), s2.sum(), s3.sum())
        while i < count {
            d += SIMD4<Float>(rows.0[i], rows.1[i], rows.2[i], rows.3[i]) * y[i]
            i += 1
        }
        return d
    }
}
