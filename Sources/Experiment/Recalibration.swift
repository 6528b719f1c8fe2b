import Datasets
import SpecFormat
import NN
import TensorCore

/// Re-estimates the running statistics of every BatchNorm / BatchRenorm layer of `model`
/// with its weights frozen (PreciseBN, Wu & Johnson 2021; `update_bn`).
///
/// Runs `model` in `Mode.train` over the given batches, as both tools do (`model.train()`:
/// dropout is active and BatchNorm normalizes with batch statistics while the
/// estimate is taken). Ghost batching is switched off during the passes, so the
/// statistics are those of the declared recalibration batch size, and restored after.
/// Call it on a copy (`clone()`) to keep the original.
public enum Recalibration {
    public static func recalibrate(model: Sequential, data: ImageDataset, samples: Int, batchSize: Int,
                                   estimator: VarianceEstimator, rng: inout RandomGenerator) throws {
        let layers = model.runningStatisticsLayers
        guard !layers.isEmpty else { return }
        let count = min(samples, data.count)
        let order = Array(rng.permutation(data.count).prefix(count))
        let savedMomenta = layers.map(\.momentum)
        let savedGhosts = layers.map(\.ghostBatchSize)
        defer {
            for (layer, m) in zip(layers, savedMomenta) { layer.momentum = m }
            for (layer, g) in zip(layers, savedGhosts) where layer.ghostBatchSize != g { layer.ghostBatchSize = g }
        }
        for layer in layers where layer.ghostBatchSize != nil { layer.ghostBatchSize = nil }
        let assembler = BatchAssembler()
        var batches: [ArraySlice<Int>] = []
        var start = 0
        while start < order.count {
            batches.append(order[start..<min(start + batchSize, order.count)])
            start += batchSize
        }
        switch estimator {
        case .meanOfBatchVariances:
            for layer in layers {
                layer.resetRunningStatistics()
                layer.momentum = .cumulative
            }
            for batch in batches {
                assembler.assemble(data, indices: batch)
                _ = try model.forward(assembler.input, mode: .train)
            }
        case .population:
            let estimators = layers.map { PopulationEstimator(features: $0.numFeatures) }
            for layer in layers { layer.momentum = .exponential(1) }
            for batch in batches {
                assembler.assemble(data, indices: batch)
                _ = try model.forward(assembler.input, mode: .train)
                // momentum 1: running_mean = batch mean, running_var = unbiased batch variance
                for (layer, e) in zip(layers, estimators) {
                    e.update(batchMean: layer.runningMean, batchUnbiasedVariance: layer.runningVar,
                             valuesPerChannel: layer.lastValuesPerChannel)
                }
            }
            for (layer, e) in zip(layers, estimators) {
                for c in 0..<layer.numFeatures {
                    layer.runningMean.data[c] = Float(e.mean[c])
                    layer.runningVar.data[c] = Float(e.variance(c))
                }
            }
        }
    }
}

/// fvcore's `_PopulationVarianceEstimator`, in Double.
final class PopulationEstimator {
    private(set) var mean: [Double]
    private var squareMean: [Double]
    private var total = 0.0

    init(features: Int) {
        mean = Array(repeating: 0, count: features)
        squareMean = Array(repeating: 0, count: features)
    }

    func update(batchMean: Tensor, batchUnbiasedVariance: Tensor, valuesPerChannel m: Int) {
        let n = Double(m)
        total += n
        for c in 0..<mean.count {
            let mu = Double(batchMean.data[c])
            let batchSquareMean = mu * mu + Double(batchUnbiasedVariance.data[c]) * (n - 1) / n
            mean[c] += (mu - mean[c]) * (n / total)
            squareMean[c] += (batchSquareMean - squareMean[c]) * (n / total)
        }
    }

    func variance(_ c: Int) -> Double { squareMean[c] - mean[c] * mean[c] }
}
