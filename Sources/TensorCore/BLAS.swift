import COpenBLAS

/// The one door to C: every call into OpenBLAS goes through this file, and
/// every GEMM checks its shapes against the buffers it is given.
///
/// All matrices are row-major and contiguous (leading dimension = columns). Shapes too
/// small for OpenBLAS's packing to pay off go to ``SmallGemm`` instead.
///
/// OpenBLAS computes on the calling thread alone (``openBLASThreads`` is 1 from the first GEMM on).
/// Parallel work is ``ComputeThreads``': the kernels that split a layer over threads call the GEMMs
/// of one thread, with their shapes, so no number depends on the thread count. OpenBLAS's own threads
/// would not keep that promise for every kernel set (some choose their code path by the thread
/// count), are one process-wide setting that concurrent cells would share, and were measured too
/// slow to wake for this project's GEMMs: with 2 OpenBLAS threads for GEMMs of at least 2^18
/// multiply-adds (OpenBLAS's own limit), which last a few microseconds, the flagship CNN's training
/// step ran 3-4x SLOWER than on one thread at every batch size (a shared 2-core machine, where a
/// woken thread may wait a whole time slice for a core).
public enum BLAS {
    /// `C = alpha * op(A) * op(B) + beta * C`, with `op(A)` of shape `(m, k)`,
    /// `op(B)` of shape `(k, n)` and `C` of shape `(m, n)`.
    ///
    /// `A` is stored `(m, k)`, or `(k, m)` when `transposeA`; `B` is stored
    /// `(k, n)`, or `(n, k)` when `transposeB`. The `*Count` arguments are the
    /// number of values available at each pointer; they are checked.
    @inline(__always)
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, aCount: Int,
        b: UnsafePointer<Float>, bCount: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, cCount: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m=\(m) n=\(n) k=\(k)")
        precondition(aCount >= m * k, "gemm: A holds \(aCount) values, needs \(m)x\(k)")
        precondition(bCount >= k * n, "gemm: B holds \(bCount) values, needs \(k)x\(n)")
        precondition(cCount >= m * n, "gemm: C holds \(cCount) values, needs \(m)x\(n)")
        if m == 0 || n == 0 { return }
        if k == 0 {  // BLAS leaves C untouched for k = 0 only when beta = 1
            for i in 0..<(m * n) { c[i] = beta == 0 ? 0 : beta * c[i] }
            return
        }
        if SmallGemm.handles(transposeA: transposeA, transposeB: transposeB, m: m, k: k) {
            SmallGemm.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                           a: a, b: b, beta: beta, c: c)
            return
        }
        _ = oneOpenBLASThread
        openBLASGemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                     a: a, b: b, beta: beta, c: c)
    }

    /// `openblas_set_num_threads(1)`, once, before the first GEMM (see the type's summary).
    private static let oneOpenBLASThread: Void = openblas_set_num_threads(1)

    /// The thread count OpenBLAS uses for its calls (tests check that it is 1).
    static var openBLASThreads: Int { Int(openblas_get_num_threads()) }

    /// `cblas_sgemm` itself, shapes already checked (tests compare ``SmallGemm`` with it).
    static func openBLASGemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, b: UnsafePointer<Float>, beta: Float,
                             c: UnsafeMutablePointer<Float>) {
        let lda = transposeA ? m : k
        let ldb = transposeB ? k : n
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(n))
    }

    /// OpenBLAS's build description, `openblas_get_config()`: version, build options and kernel set, e.g.
    /// "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64". For benchmark reports and for
    /// the provenance of every table.
    public static var configuration: String {
        guard let s = openblas_get_config() else { return "unknown" }
        return String(cString: s)
    }

    /// The kernel set OpenBLAS runs, `openblas_get_corename()`: "Haswell", "SkylakeX", "Cooperlake", "Zen", ...
    /// A DYNAMIC_ARCH build picks it for the CPU when the library loads, unless `OPENBLAS_CORETYPE=<name>`
    /// forces one. Results depend on it: kernels differ in the order in which they sum products.
    public static var coreName: String {
        guard let s = openblas_get_corename() else { return "unknown" }
        return String(cString: s)
    }
}
