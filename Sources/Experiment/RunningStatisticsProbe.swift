import Datasets
import SpecFormat
import Foundation
import NN
import TensorCore

/// How far a layer's running statistics are from the true statistics of its input.
public struct StatisticsError: Hashable, Sendable {
    /// Position of the layer among the model's running-statistics layers (0-based).
    public var layerIndex: Int
    public var layerName: String
    public var channels: Int
    /// `mean_c |running_mean_c - mu_c| / sigma_c`: the mean's error in units of the population std.
    public var meanError: Double
    /// `mean_c |running_var_c - sigma_c^2| / sigma_c^2`: the variance's relative error.
    public var varianceError: Double
}

/// Measures running statistics against the population statistics of each layer's
/// input: `mu_c`, `sigma_c^2` = mean and (biased) variance over all `N*H*W` values of
/// channel `c` when the network runs in EVAL mode over `data` (the inputs the layer
/// sees at inference, under the final weights). The same pass also counts the
/// eval-mode accuracy on `data`, so measuring costs no extra forward pass. The pass runs on `threads`
/// (the observer on the calling thread).
public enum RunningStatisticsProbe {
    public static func measure(model: Sequential, data: ImageDataset, batchSize: Int,
                               threads: ComputeThreads = .serial) throws
        -> (errors: [StatisticsError], accuracy: AccuracyCounter) {
        // every running-statistics layer, also inside residual blocks, seen through the forward's observer
        let probes = model.runningStatisticsLayers
        let position = Dictionary(uniqueKeysWithValues: probes.enumerated().map { (ObjectIdentifier($1), $0) })
        var accuracy = AccuracyCounter()
        var predictions: [Int32] = []
        var sums = probes.map { [Double](repeating: 0, count: $0.numFeatures) }
        var squares = sums
        var counts = [Double](repeating: 0, count: probes.count)
        try BatchAssembler().forEachBatch(data, batchSize: batchSize) { input, labels, _ in
            let output = try model.forward(input, mode: .eval.on(threads)) { layer, h in
                guard let probe = position[ObjectIdentifier(layer)] else { return }
                let channels = h.shape.channels, hw = h.shape.spatial
                for n in 0..<h.shape.batch {
                    for c in 0..<channels {
                        let plane = h.data + (n * channels + c) * hw
                        var s = 0.0, q = 0.0
                        for j in 0..<hw { let v = Double(plane[j]); s += v; q += v * v }
                        sums[probe][c] += s
                        squares[probe][c] += q
                    }
                }
                counts[probe] += Double(h.shape.batch * hw)
            }
            SoftmaxCrossEntropy.predictions(output, into: &predictions)
            accuracy.add(correct: zip(predictions, labels).filter { $0 == $1 }.count, of: predictions.count)
        }
        let errors = probes.enumerated().map { k, layer in
            var meanError = 0.0, varianceError = 0.0
            for c in 0..<layer.numFeatures {
                let mu = sums[k][c] / counts[k]
                let variance = max(squares[k][c] / counts[k] - mu * mu, 0)
                let sigma = max(variance.squareRoot(), 1e-12)
                meanError += abs(Double(layer.runningMean.data[c]) - mu) / sigma
                varianceError += abs(Double(layer.runningVar.data[c]) - variance) / max(variance, 1e-24)
            }
            let c = Double(layer.numFeatures)
            return StatisticsError(layerIndex: k, layerName: layer.name, channels: layer.numFeatures,
                                   meanError: meanError / c, varianceError: varianceError / c)
        }
        return (errors, accuracy)
    }
}
