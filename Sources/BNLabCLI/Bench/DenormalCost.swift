import Experiment
import NN
import TensorCore

/// What a denormal costs this CPU: `SGD.step` (momentum 0.9, lr 0.01) over a model's parameters whose
/// gradients are all 1e-40, a denormal (float32's normal range starts at 2^-126 ≈ 1.18e-38), so that the
/// momentum buffers settle at `buf = 0.9 buf + 1e-40 -> 1e-39`, denormal too: the state the buffers of
/// parameters with a vanishing gradient decay into (issue 15). Timed with the processor's default modes
/// (``FloatingPointMode/withDenormalsKept(_:)``, PyTorch's default) and with bnlab's
/// (``FloatingPointMode/withDenormalsFlushed(_:)``, the gradient then reads as 0). Some CPUs take a
/// microcode assist per denormal operand (an Intel Sapphire Rapids core: 20 ns per element against
/// 0.2 ns), others none; the ratio says which kind this one is.
enum DenormalCost {
    struct Measurement {
        let parameters: Int
        /// Median nanoseconds per parameter of one `SGD.step`, denormals kept and flushed.
        let keptNanoseconds: Double
        let flushedNanoseconds: Double
        /// Whether the buffers held denormals while the kept steps were timed (they must, or the
        /// measurement measured nothing).
        let buffersWereDenormal: Bool
    }

    static let gradient: Float = 1e-40

    static func measure(model: Sequential, repetitions: Int, minimumSeconds: Double) throws -> Measurement {
        let parameters = model.parameters
        let count = parameters.reduce(0) { $0 + $1.value.count }
        func timed(kept: Bool) throws -> (nanoseconds: Double, denormal: Bool) {
            let optimizer = try SGD(parameters: parameters, learningRate: 0.01, momentum: 0.9)
            for p in parameters { p.gradient.data.update(repeating: gradient, count: p.gradient.count) }
            func steps(_ n: Int) { for _ in 0..<n { optimizer.step() } }
            let body = { () -> (Double, Bool) in
                steps(100)  // the buffers settle at 10 * gradient
                let warmup = Stopwatch.now()
                steps(10)
                let perStep = max(Stopwatch.seconds(since: warmup) / 10, 1e-9)
                let n = max(1, Int((minimumSeconds / perStep).rounded(.up)))
                var rates: [Double] = []
                for _ in 0..<repetitions {
                    let start = Stopwatch.now()
                    steps(n)
                    rates.append(Stopwatch.seconds(since: start) * 1e9 / Double(n * count))
                }
                // The weights moved by lr * 1e-39 per step: nothing a float32 weight of ordinary size notices.
                let buffer = optimizer.momentumBuffer(0) ?? []
                return (median(rates), buffer.contains { $0 != 0 && !$0.isNormal })
            }
            return kept ? FloatingPointMode.withDenormalsKept(body) : FloatingPointMode.withDenormalsFlushed(body)
        }
        let kept = try timed(kept: true), flushed = try timed(kept: false)
        return Measurement(parameters: count, keptNanoseconds: kept.nanoseconds,
                           flushedNanoseconds: flushed.nanoseconds, buffersWereDenormal: kept.denormal)
    }

    /// The bench's line: both costs and their ratio.
    static func line(_ m: Measurement, model: String) -> String {
        let ratio = m.keptNanoseconds / m.flushedNanoseconds
        return "denormals: SGD.step over \(model)'s \(m.parameters) parameters with denormal gradients and buffers:"
            + " \(CSV.number(m.keptNanoseconds, decimals: 2)) ns per parameter kept,"
            + " \(CSV.number(m.flushedNanoseconds, decimals: 2)) flushed (\(CSV.number(ratio, decimals: 1))x)"
            + (m.buffersWereDenormal ? "" : "; the buffers were not denormal: not measured")
    }
}
