import Foundation
import Charts
import Experiment
import Reports
import NN
import TensorCore

/// `bnlab bench`: times training steps of the ``BenchModel``s at each batch size and thread count
/// (``ComputeThreads``: the layers split their work over them; OpenBLAS runs one thread), prints a table to standard output and, with `--csv PATH`, writes the CSV.
///
/// Per configuration: samples/s as the median of `--repetitions` timed runs (each at least
/// 0.2 s after a 0.1 s warm-up; `--quick`: 0.02 s, at most 3 runs, batch sizes <= 32 and the
/// first thread count only), the achieved conv + linear GFLOP/s (``TrainingFlops``), the
/// measured sgemm peak at that thread count (``SgemmPeak``, 1024^3, median of 7; `--quick`:
/// 256^3) and the peak resident memory (``PeakMemory``).
enum Bench {
    static let seed: UInt64 = 20_240_601

    static func run(_ command: BenchCommand, write: (String) -> Void = Console.out) -> Int32 {
        let quick = command.quick
        let threadCounts = quick ? Array(command.threads.prefix(1)) : command.threads
        let small = command.batchSizes.filter { $0 <= 32 }
        let batchSizes = quick ? (small.isEmpty ? [command.batchSizes.min()!] : small) : command.batchSizes
        let repetitions = quick ? min(command.repetitions, 3) : command.repetitions
        let minimumSeconds = quick ? 0.02 : 0.2, warmupSeconds = quick ? 0.01 : 0.1
        let models = BenchModel.selected(command.models)

        write("bnlab bench: training steps (zero_grad, forward in train mode, cross-entropy, backward, "
              + "SGD momentum 0.9)")
        write("OpenBLAS: \(BLAS.configuration)")
        for model in models { write("  " + model.summary) }
        write("samples/s: median of \(repetitions) runs of >= \(minimumSeconds) s; spread = (max - min) / median")
        write("CPU ms: process CPU time per step (all threads); main ms: the stepping thread's less its waits for the"
              + " others (the critical path when each thread has a core); GFLOP/s: conv and linear forward + backward")
        var peaks: [Int: Double] = [:]
        let pools = Dictionary(uniqueKeysWithValues: threadCounts.map { ($0, ComputeThreads(count: $0)) })
        for t in threadCounts {
            peaks[t] = SgemmPeak.measure(size: quick ? 256 : 1024, repetitions: quick ? 3 : 7, threads: pools[t]!)
            write("sgemm peak, \(t) thread\(t == 1 ? "" : "s"): \(CSV.number(peaks[t]!, decimals: 1)) GFLOP/s")
        }
        do {
            let probe = try DenormalCost.measure(model: models[0].build(seed: seed), repetitions: 3,
                                                 minimumSeconds: quick ? 0.002 : 0.01)
            write(DenormalCost.line(probe, model: models[0].rawValue))
        } catch {
            Terminal.writeToStandardError("bnlab: error: denormal probe: \(error)\n")
            return 1
        }
        if command.keepDenormals {
            write("denormals: kept in the timed steps (--denormals keep: the processor's default modes, PyTorch's default)")
        }
        write("")
        write(BenchReport.header())
        var results: [BenchResult] = []
        for model in models {
            let flops: Double
            do {
                let s = model.sampleShape
                flops = try TrainingFlops.perSample(model: model.build(seed: seed), channels: s.channels,
                                                    height: s.height, width: s.width)
            } catch {
                Terminal.writeToStandardError("bnlab: error: \(model.rawValue): \(error)\n")
                return 1
            }
            for t in threadCounts {
                for n in batchSizes {
                    PeakMemory.reset()
                    var result = BenchResult(model: model, threads: t, batchSize: n, rates: [], flopsPerSample: flops,
                                             peakGFlops: peaks[t]!, peakMemoryMiB: 0, invalidReason: nil)
                    do {
                        let bench = try TrainingStepBench(model: model, batchSize: n, seed: seed, threads: pools[t]!)
                        let timed = {
                            try bench.measure(repetitions: repetitions, minimumSeconds: minimumSeconds,
                                              warmupSeconds: warmupSeconds)
                        }
                        (result.rates, result.cpuSecondsPerStep, result.mainCPUSecondsPerStep) = try command.keepDenormals
                            ? FloatingPointMode.withDenormalsKept(timed) : FloatingPointMode.withDenormalsFlushed(timed)
                    } catch let error as LayerError {
                        result.invalidReason = error.message
                    } catch {
                        result.invalidReason = "\(error)"
                    }
                    result.peakMemoryMiB = PeakMemory.mebibytes
                    results.append(result)
                    write(BenchReport.line(result))
                }
            }
        }
        if let path = command.csvPath {
            do {
                try AtomicFile.write(BenchReport.csv(results), to: path)
            } catch {
                Terminal.writeToStandardError("bnlab: error: \(error)\n")
                return 1
            }
        }
        return 0
    }
}
