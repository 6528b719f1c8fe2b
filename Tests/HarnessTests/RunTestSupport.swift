import Charts
import Datasets
import Experiment
import Reports
import SpecFormat
import NN
import TensorCore
import XCTest

// Hand-built models and datasets whose outputs are known without running them,
// for the tests of the run layer (evaluation, recalibration, probes, training).

/// A dataset of `N` images of shape `(C, H, W)` from per-image value lists
/// (`images[n]` holds `C * H * W` values in CHW order), named "hand".
func handDataset(_ images: [[Float]], labels: [Int32], classes: Int,
                 channels: Int, height: Int = 1, width: Int = 1) throws -> ImageDataset {
    try ImageDataset(name: "hand", channels: channels, height: height, width: width,
                     images: images.flatMap { $0 }, labels: labels, classCount: classes)
}

/// `Linear(IN -> OUT)` with the given weight rows (`weights[out][in]`) and bias.
func handLinear(weights: [[Float]], bias: [Float]) -> Linear {
    var rng = RandomGenerator(seed: 0)
    let layer = Linear(weights[0].count, weights.count, rng: &rng)
    for (row, values) in weights.enumerated() {
        for (column, w) in values.enumerated() { layer.weight.value[row * values.count + column] = w }
    }
    for (j, b) in bias.enumerated() { layer.bias!.value[j] = b }
    return layer
}

/// A BatchNorm whose running statistics are set by hand (`num_batches_tracked` 3; weight 1, bias 0).
func handBatchNorm(mean: [Float], variance: [Float], momentum: BNMomentum = .exponential(0.1),
                   ghostBatchSize: Int? = nil) -> BatchNorm {
    let layer = BatchNorm(mean.count, momentum: momentum, ghostBatchSize: ghostBatchSize)
    layer.restoreRunningStatistics(RunningStatistics(mean: mean, variance: variance, batchesTracked: 3))
    return layer
}

/// The running statistics of every BatchNorm-like layer of `model`, in order.
func runningStatistics(_ model: Sequential) -> [RunningStatistics] {
    model.runningStatisticsLayers.map { $0.snapshotRunningStatistics() }
}

/// Per-channel mean and BIASED variance over all `N * H * W` values of `data`
/// (or of the images at `indices`), two passes in Double: the reference the tests
/// hold the harness's statistics to.
func populationMoments(_ data: ImageDataset, indices: [Int]? = nil) -> (mean: [Double], variance: [Double]) {
    let hw = data.height * data.width
    let chosen = indices ?? Array(0..<data.count)
    func values(_ c: Int) -> [Double] {
        chosen.flatMap { n in (0..<hw).map { Double(data.images[(n * data.channels + c) * hw + $0]) } }
    }
    var means: [Double] = [], variances: [Double] = []
    for c in 0..<data.channels {
        let v = values(c)
        let mean = v.reduce(0, +) / Double(v.count)
        means.append(mean)
        variances.append(v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count))
    }
    return (means, variances)
}

/// Asserts `|actual - expected| <= relative * |expected|`.
func assertRelative(_ actual: Double, _ expected: Double, _ relative: Double, _ message: String = "",
                    file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertLessThanOrEqual(abs(actual - expected), relative * abs(expected),
                             "\(message): \(actual) vs expected \(expected)", file: file, line: line)
}

/// Images whose values are `offset_n + c + within`, with the per-image offset
/// `offset_n = 2 * (n - (count - 1) / 2)` and `within ~ N(0,1)` per value: the between-image
/// variance (33 for 10 images) dominates the within-image one (about 1), which is what
/// separates the recalibration estimators.
func offsetImages(count: Int, channels: Int, height: Int, width: Int, seed: UInt64) throws -> ImageDataset {
    var rng = RandomGenerator(seed: seed)
    let hw = height * width
    var images: [[Float]] = []
    for n in 0..<count {
        var image: [Float] = []
        for c in 0..<channels {
            let offset = 2 * (Float(n) - Float(count - 1) / 2) + Float(c)
            for _ in 0..<hw { image.append(offset + rng.normal()) }
        }
        images.append(image)
    }
    return try handDataset(images, labels: Array(repeating: 0, count: count), classes: 1,
                           channels: channels, height: height, width: width)
}
