import CFloatingPoint

/// Denormal floats, flushed: the one place that sets the processor's floating-point modes.
///
/// bnlab computes with flush-to-zero (a denormal result, |x| < 2^-126 ≈ 1.18e-38, becomes 0) and
/// denormals-are-zero (a denormal input is read as 0) on every thread that computes, as TensorFlow does
/// by default and PyTorch does after `torch.set_flush_denormal(True)`. Without it, SGD's momentum buffers
/// of parameters whose gradient stays zero decay geometrically into denormals, and some CPUs take a
/// microcode assist on each: on an Intel Sapphire Rapids core `b = 0.999 * b + g; w -= 0.01 * b` cost
/// 20.1 ns per element on denormals against 0.2 ns with these modes (issue 15), and SGD.step was 66% of a
/// cnn28 step. A value that small moves no float32 weight of ordinary size, so the trained numbers do not
/// change in practice; the PyTorch goldens are checked under both modes (PyTorchGoldenTrainingTests).
///
/// The modes are per thread: ``flushDenormals()`` must run on each compute thread (the command line's
/// main thread, and each sweep worker as it starts). A thread created later inherits the creating
/// thread's modes (Linux copies the floating-point state on `clone`). The workers of ``ComputeThreads``
/// run each region under the control word of the thread that started it (``control``), so they flush
/// exactly when their caller does. OpenBLAS runs on the calling thread (``BLAS``: one OpenBLAS thread).
public enum FloatingPointMode {
    /// Sets flush-to-zero and denormals-are-zero on the calling thread.
    public static func flushDenormals() { bnlab_flush_denormals() }

    /// Whether the calling thread flushes denormals (both modes set).
    public static var denormalsFlushed: Bool { bnlab_denormals_flushed() != 0 }

    /// Runs `body` with denormals flushed on the calling thread, then restores the previous modes.
    public static func withDenormalsFlushed<T>(_ body: () throws -> T) rethrows -> T {
        let saved = bnlab_fp_control()
        defer { bnlab_set_fp_control(saved) }
        bnlab_flush_denormals()
        return try body()
    }

    /// Runs `body` with neither mode set on the calling thread (the processor's default, PyTorch's),
    /// then restores the previous modes.
    public static func withDenormalsKept<T>(_ body: () throws -> T) rethrows -> T {
        let saved = bnlab_fp_control()
        defer { bnlab_set_fp_control(saved) }
        bnlab_keep_denormals()
        return try body()
    }

    /// The calling thread's whole control word (MXCSR, or FPCR on AArch64): what another thread sets
    /// to compute under the same modes.
    static var control: UInt64 {
        get { bnlab_fp_control() }
        set { bnlab_set_fp_control(newValue) }
    }
}
