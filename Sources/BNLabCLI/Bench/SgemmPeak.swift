import TensorCore

/// The measured single-precision GEMM rate of OpenBLAS on this machine: the yardstick
/// that `bnlab bench` divides achieved GFLOP/s by.
enum SgemmPeak {
    /// GFLOP/s of `C = A B` with square `size x size` matrices, median of `repetitions`
    /// timed calls after one warm-up, with the current BLAS thread count.
    static func measure(size: Int, repetitions: Int) -> Double {
        let count = size * size
        let a = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        var rng = RandomGenerator(seed: 1)
        for i in 0..<count { a[i] = rng.uniform(-1, 1); b[i] = rng.uniform(-1, 1) }
        c.initialize(repeating: 0, count: count)
        func multiply() {
            BLAS.gemm(m: size, n: size, k: size, a: a, aCount: count, b: b, bCount: count, c: c, cCount: count)
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
