/// Per-channel mean and population standard deviation of a dataset's pixels, used to
/// standardize inputs: `x' = (x - mean[c]) / std[c]`.
public struct ChannelStatistics: Sendable, Equatable {
    /// `mean[c]`: the average of channel `c` over all images and pixels.
    public var mean: [Float]
    /// `std[c] = sqrt(sum((x - mean[c])^2) / (N * H * W))`: population (biased) standard deviation.
    public var std: [Float]

    /// Statistics given directly (e.g. the published ones of a dataset).
    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count, "ChannelStatistics: \(mean.count) means but \(std.count) stds")
        self.mean = mean
        self.std = std
    }

    /// The statistics of `dataset`, accumulated in Double in two passes (mean, then squared deviations).
    public init(of dataset: ImageDataset) {
        let planeSize = dataset.height * dataset.width
        let valueCount = Double(dataset.count * planeSize)
        var sums = [Double](repeating: 0, count: dataset.channels)
        var squares = [Double](repeating: 0, count: dataset.channels)
        func forEachPlane(_ body: (Int, UnsafeBufferPointer<Float>.SubSequence) -> Void) {
            dataset.images.withUnsafeBufferPointer { images in
                for n in 0..<dataset.count {
                    for c in 0..<dataset.channels {
                        let start = (n * dataset.channels + c) * planeSize
                        body(c, images[start..<(start + planeSize)])
                    }
                }
            }
        }
        forEachPlane { c, plane in sums[c] += plane.reduce(0) { $0 + Double($1) } }
        let means = sums.map { valueCount > 0 ? $0 / valueCount : 0 }
        forEachPlane { c, plane in
            squares[c] += plane.reduce(0) { partial, x in
                let deviation = Double(x) - means[c]
                return partial + deviation * deviation
            }
        }
        self.init(mean: means.map { Float($0) },
                  std: squares.map { valueCount > 0 ? Float(($0 / valueCount).squareRoot()) : 0 })
    }
}

/// Standardizes `dataset` in place: `x' = (x - mean[c]) / std[c]` for every pixel of channel `c`.
/// A channel with `std[c] == 0` (constant) is only centred (divided by 1), never divided by zero.
/// Requires one statistic per channel.
public func normalize(_ dataset: inout ImageDataset, with statistics: ChannelStatistics) {
    precondition(statistics.mean.count == dataset.channels,
                 "normalize: \(statistics.mean.count) channel statistics for \(dataset.channels) channels")
    let planeSize = dataset.height * dataset.width, channels = dataset.channels
    let divisors = statistics.std.map { $0 > 0 ? $0 : 1 }
    dataset.images.withUnsafeMutableBufferPointer { images in
        for plane in 0..<(images.count / planeSize) {
            let c = plane % channels, mean = statistics.mean[c], divisor = divisors[c]
            for i in (plane * planeSize)..<((plane + 1) * planeSize) { images[i] = (images[i] - mean) / divisor }
        }
    }
}
