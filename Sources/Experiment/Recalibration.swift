import Datasets
import SpecFormat
import NN
import TensorCore

/// Re-estimates the running statistics of every BatchNorm / BatchRenorm layer of `model`
/// that tracks them, with its weights frozen (PreciseBN, Wu & Johnson 2021; `update_bn`).
///
/// Runs `model` in `Mode.train` over the given batches, as both tools do (`model.train()`:
/// dropout is active and BatchNorm normalizes with batch statistics while the estimate is
/// taken), with `ghostBatches: false`, so the statistics are those of the declared
/// recalibration batch size. After each pass it reads every layer's batch statistics
/// (``RunningStatisticsLayer/lastBatchStatistics``), folds them into its estimator and
/// writes the running statistics explicitly (``RunningStatisticsLayer/restoreRunningStatistics(_:)``);
/// no layer setting changes. Between passes the running statistics hold what each tool's
/// momentum setting leaves in them, which Batch Renormalization's train-mode `r` and `d` read:
/// fvcore (`momentum = 1`) the last batch's, `update_bn` (`momentum = None`) the average so far.
/// `num_batches_tracked` counts the passes, as in both tools.
///
/// A BatchNorm module called at several sites (``SharedBatchNormSite``, `shared_bn shared`) is one
/// module to both tools (`model.modules()` lists it once) and sees one call per site per pass, in
/// forward order: fvcore reads its running statistics after the pass with momentum 1, i.e. the LAST
/// site's batch statistics; `update_bn`'s cumulative average takes every call's. The estimators here
/// get exactly that: the last site's statistics (population) or every site's (mean of batches).
/// Call it on a copy (`clone()`) to keep the original.
///
/// A model with a ``CrossIterationNormalization`` (MABN, CBN) is refused with a `LayerError`
/// (the cell then leaves test_acc_recalibrated empty and says why): their running statistics are
/// not BatchNorm's mean and variance, and their authors' code defines no re-estimate.
/// The passes run on `threads` (no number depends on them).
public enum Recalibration {
    public static func recalibrate(model: Sequential, data: ImageDataset, samples: Int, batchSize: Int,
                                   estimator: VarianceEstimator, rng: inout RandomGenerator,
                                   threads: ComputeThreads = .serial) throws {
        if let layer = model.allLayers.first(where: { $0 is CrossIterationNormalization }) {
            throw LayerError(layer: layer.name, "recalibration re-estimates BatchNorm running means and variances;"
                             + " this layer's running statistics are kept as trained (its authors' code defines no"
                             + " re-estimate)")
        }
        // Without running statistics (track_running_stats off) there is nothing to recalibrate.
        // One entry per module: its sites in forward order.
        var modules: [[RunningStatisticsLayer]] = []
        for layer in model.runningStatisticsLayers where layer.trackRunningStats {
            if let i = modules.firstIndex(where: { $0[0].statisticsIdentity == layer.statisticsIdentity }) {
                modules[i].append(layer)
            } else {
                modules.append([layer])
            }
        }
        let layers = modules.map { $0[0] }
        guard !layers.isEmpty else { return }
        let count = min(samples, data.count)
        let order = Array(rng.permutation(data.count).prefix(count))
        let assembler = BatchAssembler()
        var batches: [ArraySlice<Int>] = []
        var start = 0
        while start < order.count {
            batches.append(order[start..<min(start + batchSize, order.count)])
            start += batchSize
        }
        let estimators: [RunningStatisticsEstimator]
        switch estimator {
        case .meanOfBatchVariances:
            // update_bn: reset_running_stats(), then the cumulative average (momentum None)
            for layer in layers { layer.resetRunningStatistics() }
            estimators = layers.map { MeanOfBatchesEstimator(features: $0.numFeatures) }
        case .population:
            estimators = layers.map { PopulationEstimator(features: $0.numFeatures) }
        }
        let mode = Mode(normalization: .train, dropout: .train, ghostBatches: false, threads: threads)
        for batch in batches {
            assembler.assemble(data, indices: batch)
            _ = try model.forward(assembler.input, mode: mode)
            for (sites, e) in zip(modules, estimators) {
                let calls = sites.map { site in
                    guard let statistics = site.lastBatchStatistics else {
                        preconditionFailure("\(site.name): no batch statistics after a train-mode pass")
                    }
                    return statistics
                }
                for statistics in e.readsEveryCall ? calls : [calls[calls.count - 1]] { e.add(statistics) }
                let layer = sites[0]
                layer.restoreRunningStatistics(RunningStatistics(mean: e.betweenBatches.mean, variance: e.betweenBatches.variance,
                                                                 batchesTracked: layer.numBatchesTracked))
            }
        }
        for (layer, e) in zip(layers, estimators) {
            let (mean, variance) = e.estimate
            layer.restoreRunningStatistics(RunningStatistics(mean: mean, variance: variance,
                                                             batchesTracked: layer.numBatchesTracked))
        }
    }
}

/// An estimator of a layer's population statistics from its batch statistics, one batch at a time.
protocol RunningStatisticsEstimator: AnyObject {
    /// Whether a module called at several sites contributes every call's statistics per pass
    /// (`update_bn`'s cumulative average) or the last call's (fvcore's read after a momentum-1 pass).
    var readsEveryCall: Bool { get }
    func add(_ batch: BatchStatistics)
    /// The running statistics the tool's momentum trick leaves in the layer after the batches so far.
    var betweenBatches: (mean: [Float], variance: [Float]) { get }
    /// The estimate, for the layer's running statistics.
    var estimate: (mean: [Float], variance: [Float]) { get }
}

/// fvcore's `_PopulationVarianceEstimator`, in Double, over the batch statistics as Float32
/// buffers hold them (fvcore reads them from `running_mean` / `running_var` after a pass
/// with momentum 1), each batch weighted by its values per channel `n`:
/// `mean += (mu - mean) * n / total`, `E[x^2] += (mu^2 + var_unbiased * (n - 1) / n - E[x^2]) * n / total`;
/// the variance is `E[x^2] - mean^2`, the biased variance of all values seen.
final class PopulationEstimator: RunningStatisticsEstimator {
    private var mean: [Double]
    private var squareMean: [Double]
    private var total = 0.0
    private var last: (mean: [Float], variance: [Float]) = ([], [])

    init(features: Int) {
        mean = Array(repeating: 0, count: features)
        squareMean = Array(repeating: 0, count: features)
    }

    let readsEveryCall = false

    func add(_ batch: BatchStatistics) {
        let n = Double(batch.valuesPerChannel)
        total += n
        for c in 0..<mean.count {
            let mu = Double(batch.mean[c])
            let batchSquareMean = mu * mu + Double(batch.unbiasedVariance[c]) * (n - 1) / n
            mean[c] += (mu - mean[c]) * (n / total)
            squareMean[c] += (batchSquareMean - squareMean[c]) * (n / total)
        }
        last = (batch.mean, batch.unbiasedVariance)
    }

    /// momentum 1: the last batch's mean and unbiased variance.
    var betweenBatches: (mean: [Float], variance: [Float]) { last }

    var estimate: (mean: [Float], variance: [Float]) {
        (mean.map { Float($0) }, zip(squareMean, mean).map { Float($0 - $1 * $1) })
    }
}

/// `torch.optim.swa_utils.update_bn`'s estimate: the unweighted cumulative average of the batch
/// means and UNBIASED batch variances, in Float32 as BatchNorm's `momentum=None` update computes
/// it from the reset statistics (mean 0, variance 1): at the `t`-th batch, `f = 1 / t`,
/// `running = (1 - f) * running + f * batch`.
final class MeanOfBatchesEstimator: RunningStatisticsEstimator {
    private var mean: [Float]
    private var variance: [Float]
    private var batches = 0

    init(features: Int) {
        mean = Array(repeating: 0, count: features)
        variance = Array(repeating: 1, count: features)
    }

    let readsEveryCall = true

    func add(_ batch: BatchStatistics) {
        batches += 1
        let f = BNMomentum.cumulative.factor(batchesTracked: batches)
        for c in 0..<mean.count {
            mean[c] = (1 - f) * mean[c] + f * batch.mean[c]
            variance[c] = (1 - f) * variance[c] + f * batch.unbiasedVariance[c]
        }
    }

    var betweenBatches: (mean: [Float], variance: [Float]) { (mean, variance) }
    var estimate: (mean: [Float], variance: [Float]) { (mean, variance) }
}
