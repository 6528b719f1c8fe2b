/// GEMMs with very few rows (`m <= 4`) or a very short inner dimension (`k <= 4`), in Swift.
///
/// OpenBLAS packs both operands before multiplying; when `m` or `k` is tiny (a linear layer at
/// batch 1-4: `x W^T`, `dy W`, `dW += dy^T x`) the packing costs more than the arithmetic.
/// These loops read each operand once and write `C` once. Same contract as ``BLAS/gemm``:
/// row-major, `C = alpha * op(A) op(B) + beta * C`, `op(A)` is `(m, k)`, `op(B)` is `(k, n)`.
/// Sums run in a different order from OpenBLAS's, so results agree to float rounding.
enum SmallGemm {
    /// The largest `m` or `k` these loops take.
    static let limit = 4

    /// Whether the loops below handle this shape (one of the two tiny cases, `k > 0`).
    @inline(__always)
    static func handles(m: Int, k: Int, transposeB: Bool) -> Bool {
        k > 0 && (m <= limit || (k <= limit && !transposeB))
    }

    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     a: UnsafePointer<Float>, b: UnsafePointer<Float>, beta: Float, c: UnsafeMutablePointer<Float>) {
        // A[i, p] of op(A): stored (m, k) -> a[i*k + p]; transposed, stored (k, m) -> a[p*m + i]
        let aRow = transposeA ? 1 : k, aCol = transposeA ? m : 1
        if transposeB {
            // m <= 4. C[i, j] = dot(op(A) row i, B row j), B stored (n, k): each B row is read once.
            var rows: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>)
            var packed: UnsafeMutablePointer<Float>? = nil
            if transposeA {  // gather the m <= 4 strided rows of op(A) once
                packed = .allocate(capacity: m * k)
                for i in 0..<m { for p in 0..<k { packed![i * k + p] = a[p * m + i] } }
            }
            defer { packed?.deallocate() }
            let base = UnsafePointer(packed) ?? a
            rows = (base, base + min(1, m - 1) * k, base + min(2, m - 1) * k, base + min(3, m - 1) * k)
            for j in 0..<n {
                let d = m <= 2 ? dots2((rows.0, rows.1), b + j * k, count: k) : dots(rows, b + j * k, count: k)
                for i in 0..<m {
                    let cij = c + i * n + j
                    cij.pointee = beta == 0 ? alpha * d[i] : alpha * d[i] + beta * cij.pointee
                }
            }
            return
        }
        // B stored (k, n): C row i = beta * C row i + alpha * sum_p A[i, p] * B row p, p in
        // blocks of up to 4. Blocks outside, rows inside: a block of B is read from memory once
        // (m <= 4: the C rows stay in cache; k <= 4: there is one block).
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
    /// where `b[q]` is row `q` of a row-major `(width, n)` block. `scale == 0` ignores `c`.
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
