import SpecFormat
/// Which values of a dataset share one mean and standard deviation when inputs are standardized.
public enum StandardizationUnit: Sendable, Equatable {
    /// Images: channel `c` over every pixel of every image, `x' = (x - mean[c]) / std[c]`.
    case channel
    /// Tabular rows (a CSV without `shape=`, samples of 1 x 1 x K): feature `j` over every row,
    /// `x' = (x - mean[j]) / std[j]`, so that features of different scales each get mean 0 and std 1.
    case feature

    /// The unit of a dataset source: per feature for a CSV without `shape=`, else per channel.
    public static func of(_ source: DatasetSource) -> StandardizationUnit {
        if case .csv(let csv) = source, csv.shape == nil { return .feature }
        return .channel
    }
}

/// Mean and population standard deviation of a dataset's values per channel (images) or per
/// feature (tabular rows), see ``StandardizationUnit``; used to standardize inputs:
/// `x' = (x - mean[g]) / std[g]` for every value of group `g` (a channel or a feature).
public struct ChannelStatistics: Sendable, Equatable {
    /// `mean[g]`: the average of group `g` (channel or feature) over all samples (and pixels).
    public var mean: [Float]
    /// `std[g] = sqrt(sum((x - mean[g])^2) / values)`: population (biased) standard deviation, over
    /// the `N * H * W` values of a channel or the `N` values of a feature.
    public var std: [Float]
    /// Whether `mean` and `std` hold one entry per channel or one per feature.
    public var unit: StandardizationUnit

    /// Statistics given directly (e.g. the published ones of a dataset), one entry per group of `unit`.
    public init(mean: [Float], std: [Float], unit: StandardizationUnit = .channel) {
        precondition(mean.count == std.count, "ChannelStatistics: \(mean.count) means but \(std.count) stds")
        self.mean = mean
        self.std = std
        self.unit = unit
    }

    /// The statistics of `dataset` per `unit`, accumulated in Double in two passes (mean, then squared deviations).
    public init(of dataset: ImageDataset, per unit: StandardizationUnit = .channel) {
        let run = unit.valuesPerRun(dataset), groups = unit.groupCount(dataset)
        let valueCount = Double(dataset.count * run)
        var sums = [Double](repeating: 0, count: groups)
        var squares = [Double](repeating: 0, count: groups)
        // A sample is `groups` runs of `run` consecutive values, run g belonging to group g.
        func forEachRun(_ body: (Int, UnsafeBufferPointer<Float>.SubSequence) -> Void) {
            dataset.images.withUnsafeBufferPointer { images in
                for n in 0..<dataset.count {
                    for g in 0..<groups {
                        let start = (n * groups + g) * run
                        body(g, images[start..<(start + run)])
                    }
                }
            }
        }
        forEachRun { g, values in sums[g] += values.reduce(0) { $0 + Double($1) } }
        let means = sums.map { valueCount > 0 ? $0 / valueCount : 0 }
        forEachRun { g, values in
            squares[g] += values.reduce(0) { partial, x in
                let deviation = Double(x) - means[g]
                return partial + deviation * deviation
            }
        }
        self.init(mean: means.map { Float($0) },
                  std: squares.map { valueCount > 0 ? Float(($0 / valueCount).squareRoot()) : 0 }, unit: unit)
    }
}

extension StandardizationUnit {
    /// Groups per sample: channels, or every value of a sample (C * H * W features).
    func groupCount(_ dataset: ImageDataset) -> Int { self == .channel ? dataset.channels : dataset.sampleSize }
    /// Consecutive values of one group within a sample: a channel's H * W pixels, or one feature.
    func valuesPerRun(_ dataset: ImageDataset) -> Int { self == .channel ? dataset.height * dataset.width : 1 }
}

/// Standardizes `dataset` in place: `x' = (x - mean[g]) / std[g]` for every value of group `g`
/// (channel or feature, as `statistics.unit` says). A group with `std[g] == 0` (constant) is only
/// centred (divided by 1), never divided by zero. Requires one statistic per group.
public func normalize(_ dataset: inout ImageDataset, with statistics: ChannelStatistics) {
    let groups = statistics.unit.groupCount(dataset), run = statistics.unit.valuesPerRun(dataset)
    precondition(statistics.mean.count == groups,
                 "normalize: \(statistics.mean.count) statistics for \(groups) groups (\(statistics.unit))")
    let divisors = statistics.std.map { $0 > 0 ? $0 : 1 }
    dataset.images.withUnsafeMutableBufferPointer { images in
        for runIndex in 0..<(images.count / run) {
            let g = runIndex % groups, mean = statistics.mean[g], divisor = divisors[g]
            for i in (runIndex * run)..<((runIndex + 1) * run) { images[i] = (images[i] - mean) / divisor }
        }
    }
}
