import Foundation
import NN
import TensorCore

/// One timed configuration: a model, a batch size, a fixed synthetic batch, and
/// `SGD(lr 0.01, momentum 0.9)`. A step is PyTorch's
/// `zero_grad(); loss = cross_entropy(model(x), y); loss.backward(); step()` in `Mode.train`, on the
/// given threads.
final class TrainingStepBench {
    let batchSize: Int
    private let threads: ComputeThreads
    private let mode: Mode
    private let model: Sequential
    private let optimizer: SGD
    private let loss = SoftmaxCrossEntropy()
    private let input: Tensor
    private let labels: [Int32]

    /// Inputs are standard normal draws, labels uniform over the classes, both from `seed`.
    init(model kind: BenchModel, batchSize: Int, seed: UInt64, threads: ComputeThreads) throws {
        self.batchSize = batchSize
        self.threads = threads
        mode = Mode.train.on(threads)
        model = try kind.build(seed: seed)
        optimizer = try SGD(parameters: model.parameters, learningRate: 0.01, momentum: 0.9)
        let s = kind.sampleShape
        var rng = RandomGenerator(seed: seed).derived("bench-data")
        input = Tensor(Shape(batchSize, s.channels, s.height, s.width))
        for i in 0..<input.count { input.data[i] = rng.normal() }
        labels = (0..<batchSize).map { _ in Int32(rng.nextInt(below: kind.classes)) }
    }

    /// One training step; returns the loss. Throws what the layers throw (BatchNorm on one value per channel).
    @discardableResult
    func step() throws -> Float {
        optimizer.zeroGradients()
        let logits = try model.forward(input, mode: mode)
        let value = labels.withUnsafeBufferPointer { loss.forward(logits: logits, labels: $0).loss }
        _ = model.backward(loss.gradient)
        optimizer.step()
        return value
    }

    /// Each of `repetitions` timed runs: samples per second (wall clock), the process's CPU seconds per
    /// step (all threads; less disturbed than the wall clock on a shared machine) and the stepping
    /// thread's, less what it spent waiting for the others (``ComputeThreads/callerWaitSeconds``): the
    /// critical path when every thread has a core.
    /// Warm-up: steps for at least `warmupSeconds` (and 2 steps), which also sizes the runs: each
    /// times enough steps to last at least `minimumSeconds`.
    func measure(repetitions: Int, minimumSeconds: Double, warmupSeconds: Double) throws
        -> (rates: [Double], cpuSecondsPerStep: [Double], mainCPUSecondsPerStep: [Double]) {
        var warmupSteps = 0
        let warmupStart = Stopwatch.now()
        while warmupSteps < 2 || Stopwatch.seconds(since: warmupStart) < warmupSeconds {
            try step()
            warmupSteps += 1
        }
        let perStep = Stopwatch.seconds(since: warmupStart) / Double(warmupSteps)
        let steps = max(1, Int((minimumSeconds / perStep).rounded(.up)))
        var rates: [Double] = [], cpu: [Double] = [], main: [Double] = []
        for _ in 0..<repetitions {
            let start = Stopwatch.now(), cpuStart = Stopwatch.processCPUSeconds()
            let mainStart = Stopwatch.threadCPUSeconds() - threads.callerWaitSeconds
            for _ in 0..<steps { try step() }
            rates.append(Double(steps * batchSize) / Stopwatch.seconds(since: start))
            cpu.append((Stopwatch.processCPUSeconds() - cpuStart) / Double(steps))
            main.append((Stopwatch.threadCPUSeconds() - threads.callerWaitSeconds - mainStart) / Double(steps))
        }
        return (rates, cpu, main)
    }
}

/// A monotonic clock for benchmarks.
enum Stopwatch {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
    static func seconds(since start: UInt64) -> Double { Double(now() - start) / 1e9 }
    /// CPU time of the whole process (every thread), `CLOCK_PROCESS_CPUTIME_ID`.
    static func processCPUSeconds() -> Double { cpuSeconds(CLOCK_PROCESS_CPUTIME_ID) }
    /// CPU time of the calling thread, `CLOCK_THREAD_CPUTIME_ID`.
    static func threadCPUSeconds() -> Double { cpuSeconds(CLOCK_THREAD_CPUTIME_ID) }

    private static func cpuSeconds(_ clock: clockid_t) -> Double {
        var t = timespec()
        clock_gettime(clock, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}

/// The middle value (the mean of the two middle values for an even count); NaN when empty.
func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted(), mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
