import TensorCore

/// The measured single-precision GEMM rate of OpenBLAS on this machine: the yardstick
/// that `bnlab bench` divides achieved GFLOP/s by.
enum SgemmPeak {
    /// GFLOP/s of `C = A B` with square `size x size` matrices, median of `repetitions`
    /// timed calls after one warm-up; on `threads`, blocks of rows of `C` (one OpenBLAS call each)
    /// spread over them.
    static func measure(size: Int, repetitions: Int, threads: ComputeThreads) -> Double {
        let count = size * size
        let a = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        var rng = RandomGenerator(seed: 1)
        for i in 0..<count { a[i] = rng.uniform(-1, 1); b[i] = rng.uniform(-1, 1) }
        c.initialize(repeating: 0, count: count)
        func multiply() {
            threads.forEachBlock(size, work: count) { rows in
                BLAS.gemm(m: rows.count, n: size, k: size, a: a + rows.lowerBound * size, aCount: rows.count * size,
                          b: b, bCount: count, c: c + rows.lowerBound * size, cCount: rows.count * size)
            }
        }
        multiply()
        var rates: [Double] = []
        for _ in 0..<repetitions {
            let start = Stopwatch.now()
            multiply()
            rates.append(2 * Double(size) * Double(size) * Double(size) / Stopwatch.seconds(since: start) / 1e9)
        }
        return median(rates)
    }
}
