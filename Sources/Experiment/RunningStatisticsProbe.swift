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
                addPlaneMoments(h, sums: &sums[probe], squares: &squares[probe])
                counts[probe] += Double(h.shape.batch * h.shape.spatial)
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

    /// `sums[c] += s_nc`, `squares[c] += q_nc` for `n = 0, 1, ...` in order, where `s_nc = sum_j x_ncj` and
    /// `q_nc = sum_j x_ncj^2` over the values of plane `(n, c)` of `h (N, C, HW)`, in Double and in the
    /// plane's order. Four planes at a time, one per SIMD lane: every lane does the same operations in the
    /// same order as ``addPlaneMomentsReference(_:sums:squares:)``, so the results are the same bits
    /// (tests hold it to that), 2.5x faster than one plane at a time, whose two chains of dependent
    /// additions left the core waiting (measured: 64 x 16 planes of 256 values in 80 us instead of 200).
    static func addPlaneMoments(_ h: Tensor, sums: inout [Double], squares: inout [Double]) {
        let channels = h.shape.channels, hw = h.shape.spatial
        precondition(sums.count == channels && squares.count == channels, "moments of \(channels) channels")
        for n in 0..<h.shape.batch {
            var c = 0
            while c + 4 <= channels {
                let p = UnsafePointer(h.data + (n * channels + c) * hw)
                var s = SIMD4<Double>(), q = SIMD4<Double>()
                for j in 0..<hw {
                    let v = SIMD4<Double>(Double(p[j]), Double(p[hw + j]), Double(p[2 * hw + j]), Double(p[3 * hw + j]))
                    s += v
                    q += v * v
                }
                for k in 0..<4 {
                    sums[c + k] += s[k]
                    squares[c + k] += q[k]
                }
                c += 4
            }
            for c in c..<channels { addPlane(UnsafePointer(h.data + (n * channels + c) * hw), hw, &sums[c], &squares[c]) }
        }
    }

    /// ``addPlaneMoments(_:sums:squares:)`` one plane at a time: the plain loop it is held to.
    static func addPlaneMomentsReference(_ h: Tensor, sums: inout [Double], squares: inout [Double]) {
        let channels = h.shape.channels, hw = h.shape.spatial
        for n in 0..<h.shape.batch {
            for c in 0..<channels { addPlane(UnsafePointer(h.data + (n * channels + c) * hw), hw, &sums[c], &squares[c]) }
        }
    }

    @inline(__always)
    private static func addPlane(_ plane: UnsafePointer<Float>, _ count: Int, _ sum: inout Double, _ square: inout Double) {
        var s = 0.0, q = 0.0
        for j in 0..<count {
            let v = Double(plane[j])
            s += v
            q += v * v
        }
        sum += s
        square += q
    }
}
