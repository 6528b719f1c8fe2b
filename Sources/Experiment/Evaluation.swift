import Datasets
import Foundation
import NN
import TensorCore

/// Counts correct predictions over batches: `n_correct += batch_correct`, `n_samples += batch_size`.
public struct AccuracyCounter: Sendable {
    public private(set) var correct = 0
    public private(set) var samples = 0
    public init() {}
    public mutating func add(correct c: Int, of n: Int) { correct += c; samples += n }
    /// `100 * n_correct / n_samples`; NaN before any sample.
    public var percent: Double { samples == 0 ? .nan : 100 * Double(correct) / Double(samples) }
}

/// The evaluation bug practitioners keep writing: `n_correct = batch_correct` where
/// `+=` was meant, with `n_samples` accumulated correctly. Its result is the last
/// batch's correct count over the whole sample count. Kept to measure the bug.
public struct AssigningAccuracyCounter: Sendable {
    public private(set) var correct = 0
    public private(set) var samples = 0
    public init() {}
    public mutating func add(correct c: Int, of n: Int) { correct = c; samples += n }
    public var percent: Double { samples == 0 ? .nan : 100 * Double(correct) / Double(samples) }
}

/// Forward passes over a dataset in its order, in batches of `batchSize`
/// (the last batch may be smaller), in a given mode.
public enum Evaluation {
    /// Calls `body(logits, labels, batchIndices)` for each batch.
    public static func forEachBatch(model: Layer, data: ImageDataset, batchSize: Int, mode: Mode,
                                    _ body: (Tensor, [Int32], Range<Int>) throws -> Void) throws {
        try BatchAssembler().forEachBatch(data, batchSize: batchSize) { input, labels, range in
            try body(try model.forward(input, mode: mode), labels, range)
        }
    }

    /// Predicted class per sample (argmax of the logits).
    public static func predictions(model: Layer, data: ImageDataset, batchSize: Int, mode: Mode) throws -> [Int32] {
        var result: [Int32] = []
        result.reserveCapacity(data.count)
        var batch: [Int32] = []
        try forEachBatch(model: model, data: data, batchSize: batchSize, mode: mode) { logits, _, _ in
            SoftmaxCrossEntropy.predictions(logits, into: &batch)
            result += batch
        }
        return result
    }

    /// Accuracy (%) with the correct accumulation, and the same pass counted with the
    /// assigning bug (`n_correct = ...`).
    public static func accuracy(model: Layer, data: ImageDataset, batchSize: Int, mode: Mode) throws
        -> (correct: AccuracyCounter, assigning: AssigningAccuracyCounter) {
        var counter = AccuracyCounter(), buggy = AssigningAccuracyCounter()
        var batch: [Int32] = []
        try forEachBatch(model: model, data: data, batchSize: batchSize, mode: mode) { logits, labels, _ in
            SoftmaxCrossEntropy.predictions(logits, into: &batch)
            var c = 0
            for (p, l) in zip(batch, labels) where p == l { c += 1 }
            counter.add(correct: c, of: labels.count)
            buggy.add(correct: c, of: labels.count)
        }
        return (counter, buggy)
    }

    /// Accuracy over class-blocked batches: the samples of each class (in ascending label order),
    /// in `data`'s order within the class, cut into batches of `batchSize` (a class's last batch may be
    /// smaller), so that no batch mixes two classes. In a mode that normalizes with batch statistics the
    /// statistics of such a batch carry its label (Ioffe & Szegedy 2015 assume i.i.d. batches).
    public static func classBlockedAccuracy(model: Layer, data: ImageDataset, batchSize: Int, mode: Mode) throws
        -> AccuracyCounter {
        var counter = AccuracyCounter()
        for label in Set(data.labels).sorted() {
            let members = data.labels.indices.filter { data.labels[$0] == label }
            let pass = try accuracy(model: model, data: data.subset(members), batchSize: batchSize, mode: mode).correct
            counter.add(correct: pass.correct, of: pass.samples)
        }
        return counter
    }

    /// Monte-Carlo dropout (Gal & Ghahramani 2016): the accuracy (%) of the softmax
    /// probabilities averaged over `passes` forward passes with dropout active and
    /// normalization in eval mode (running statistics); DropPath, which follows the dropout phase,
    /// is active too. Each pass reseeds every such layer (``StochasticLayer``) of `model` from `rng`,
    /// so the passes draw independent masks. The passes run on `threads`.
    public static func monteCarloDropoutAccuracy(model: Sequential, data: ImageDataset, batchSize: Int,
                                                 passes: Int, rng: RandomGenerator,
                                                 threads: ComputeThreads = .serial) throws -> Double {
        precondition(passes >= 1, "MC-dropout needs at least one pass")
        let k = data.classCount
        var probabilities = [Double](repeating: 0, count: data.count * k)
        let mode = Mode(normalization: .eval, dropout: .train, threads: threads)
        for pass in 0..<passes {
            for (i, d) in model.stochasticLayers.enumerated() { d.reseed(rng.derived("mc-\(pass)-\(i)")) }
            try forEachBatch(model: model, data: data, batchSize: batchSize, mode: mode) { logits, _, range in
                let width = logits.shape.channels
                for (row, sample) in range.enumerated() {
                    let z = logits.data + row * width
                    var maxValue = z[0]
                    for j in 1..<width { maxValue = max(maxValue, z[j]) }
                    var sum = 0.0
                    for j in 0..<width { sum += exp(Double(z[j] - maxValue)) }
                    for j in 0..<min(width, k) { probabilities[sample * k + j] += exp(Double(z[j] - maxValue)) / sum }
                }
            }
        }
        var counter = AccuracyCounter()
        for sample in 0..<data.count {
            var best = 0
            for j in 1..<k where probabilities[sample * k + j] > probabilities[sample * k + best] { best = j }
            counter.add(correct: Int32(best) == data.labels[sample] ? 1 : 0, of: 1)
        }
        return counter.percent
    }
}
