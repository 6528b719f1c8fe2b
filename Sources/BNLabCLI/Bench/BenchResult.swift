import Charts
import Experiment

/// One measured configuration of `bnlab bench`.
struct BenchResult: Sendable {
    var model: BenchModel
    var threads: Int
    var batchSize: Int
    /// Samples per second of each repetition (empty when the configuration is invalid).
    var rates: [Double]
    /// Process CPU seconds per step of each repetition (all threads).
    var cpuSecondsPerStep: [Double] = []
    /// CPU seconds per step of the thread that runs the step (the caller of every parallel region), less
    /// its waits for the other threads, in each repetition: the step's critical path when every thread
    /// has a core of its own, which a shared machine's wall clock does not show.
    var mainCPUSecondsPerStep: [Double] = []
    /// Conv + linear FLOPs of one training step per sample (``TrainingFlops``).
    var flopsPerSample: Double
    /// Measured sgemm GFLOP/s at this thread count (``SgemmPeak``).
    var peakGFlops: Double
    /// Peak resident memory while this configuration ran, MiB.
    var peakMemoryMiB: Double
    /// Why the configuration could not run (e.g. BatchNorm on one value per channel); nil if it ran.
    var invalidReason: String?

    var samplesPerSecond: Double { median(rates) }
    var stepMilliseconds: Double { 1000 * Double(batchSize) / samplesPerSecond }
    /// Median process CPU milliseconds per step.
    var cpuMillisecondsPerStep: Double { 1000 * median(cpuSecondsPerStep) }
    /// Median CPU milliseconds per step of the step's own thread.
    var mainCPUMillisecondsPerStep: Double { 1000 * median(mainCPUSecondsPerStep) }
    var achievedGFlops: Double { samplesPerSecond * flopsPerSample / 1e9 }
    var peakFraction: Double { achievedGFlops / peakGFlops }
    /// (max - min) / median of the repetitions: how noisy the measurement was.
    var spread: Double { rates.isEmpty ? .nan : (rates.max()! - rates.min()!) / samplesPerSecond }

    static let csvHeader = ["model", "threads", "batch", "samples_per_s", "step_ms", "cpu_ms_per_step",
                            "main_cpu_ms_per_step", "spread", "repetitions",
                            "flops_per_sample", "gflops", "peak_gflops", "peak_fraction", "max_rss_mib", "note"]

    var csvFields: [String] {
        let ran = invalidReason == nil
        func number(_ x: Double, _ decimals: Int) -> String { ran ? CSV.number(x, decimals: decimals) : "" }
        return [model.rawValue, String(threads), String(batchSize),
                number(samplesPerSecond, 1), number(stepMilliseconds, 4), number(cpuMillisecondsPerStep, 4),
                number(mainCPUMillisecondsPerStep, 4), number(spread, 3), String(rates.count),
                CSV.number(flopsPerSample, decimals: 0), number(achievedGFlops, 3),
                CSV.number(peakGFlops, decimals: 2), number(peakFraction, 4),
                CSV.number(peakMemoryMiB, decimals: 1), invalidReason ?? ""]
    }
}
