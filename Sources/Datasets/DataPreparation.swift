import SpecFormat
import Foundation
import TensorCore

/// Turns a cell's data settings into its train and test splits, deterministically
/// from the cell's seed:
/// 1. the source: `shapes` generates `train_split` + `test_split` images from two
///    seeded streams; a file dataset is loaded once per process and split
///    stratified by label (shuffled: the shipped MNIST file is sorted by label);
/// 2. `jitter` on the splits named by `jitter_apply` (one gain and offset per image);
/// 3. `normalize` / `test_normalize`: standardization per channel (images) or, for tabular
///    rows (a CSV without `shape=`), per feature (``StandardizationUnit``);
/// 4. `split_overlap`: the first `round(overlap * test_split)` test samples are replaced
///    by (processed) training samples, reproducing a leaky split.
/// An instance is the data of one run: it caches the files it loaded (with their warnings) and the
/// splits it prepared (by ``dataKey(_:)``), so the cells of a sweep that share data settings and seed
/// share one copy, and the files that `check` loaded are not read again by the sweep that follows.
/// The cache lives as long as its owner (the command that runs the sweep), not the process.
public final class DataPreparation: @unchecked Sendable {  // Sendable: `lock` guards the caches
    private let lock = NSLock()
    private var loaded: [DatasetSource: ImageDataset] = [:]
    private var prepared: [String: PreparedData] = [:]
    private var loadWarnings: [DatasetSource: [DatasetWarning]] = [:]

    public init() {}

    /// The settings that determine a cell's data (part of the cache key).
    public static func dataKey(_ c: ExperimentConfig) -> String { key(c, settings: dataSettings) }

    /// The settings that make the splits, in the order the keys list them.
    static let dataSettings = ["dataset", "jitter", "jitter_apply", "train_split", "test_split", "split_overlap",
                               "normalize", "test_normalize", "test_storage"]
    /// Those that change only the test split.
    static let testOnlySettings: Set<String> = ["split_overlap", "test_normalize", "test_storage"]

    /// The identity of what a training reads: the settings that decide the training split, plus the
    /// test split's settings when the training loop reads it (`validation`, or `epoch_eval`, which
    /// evaluates on it after every epoch). The test-only settings (`split_overlap`, `test_normalize`,
    /// `test_storage`) change only the test split, which training reads only for those; `test_split`
    /// stays in, since it decides which samples a file's split trains on.
    public static func trainingDataKey(_ c: ExperimentConfig) -> String {
        guard c.validation == .off && !c.epochEval else { return dataKey(c) }
        return key(c, settings: dataSettings.filter { !testOnlySettings.contains($0) })
    }

    /// `KEY=VALUE` of each of `settings` in `c`, then the seed.
    private static func key(_ c: ExperimentConfig, settings: [String]) -> String {
        settings.map { "\($0)=\(c.canonicalValue(of: $0) ?? "")" }.joined(separator: " ") + " seed=\(c.seed)"
    }

    public func prepare(_ config: ExperimentConfig) throws -> PreparedData {
        let key = Self.dataKey(config)
        lock.lock()
        if let hit = prepared[key] { lock.unlock(); return hit }
        lock.unlock()
        let data = try Self.build(config, loading: load)
        lock.lock()
        prepared[key] = data
        lock.unlock()
        return data
    }

    /// The warnings that loading `source` gave (a CSV class with very few samples); empty before
    /// ``load(_:)`` has loaded it.
    public func warnings(of source: DatasetSource) -> [DatasetWarning] {
        lock.lock()
        defer { lock.unlock() }
        return loadWarnings[source] ?? []
    }

    /// Loads a file dataset (cached, with its warnings: ``warnings(of:)``); `shapes` is generated per cell instead.
    public func load(_ source: DatasetSource) throws -> ImageDataset {
        lock.lock()
        if let hit = loaded[source] { lock.unlock(); return hit }
        lock.unlock()
        let data: ImageDataset
        var warnings: [DatasetWarning] = []
        switch source {
        case .shapes:
            preconditionFailure("shapes data is generated per cell")
        case .csv(let s):
            let column: LabelColumn
            switch s.labelColumn {
            case .first: column = .first
            case .last: column = .last
            case .index(let i): column = .index(i)
            }
            let header: CSVHeader
            switch s.header {
            case .auto: header = .auto
            case .yes: header = .present
            case .no: header = .absent
            }
            data = try loadCSVImages(path: s.path, labelColumn: column,
                                     shape: s.shape.map { ($0.channels, $0.height, $0.width) }, scale: s.scale, header: header,
                                     warn: { warnings.append($0) })
        case .idx(let images, let labels):
            data = try loadIDX(imagesPath: images, labelsPath: labels, scale: 1.0 / 255)
        case .cifar10(let batches):
            data = try loadCIFAR10(paths: batches, scale: 1.0 / 255)
        }
        lock.lock()
        loaded[source] = data
        loadWarnings[source] = warnings
        lock.unlock()
        return data
    }

    static func build(_ c: ExperimentConfig, loading load: (DatasetSource) throws -> ImageDataset) throws -> PreparedData {
        let root = RandomGenerator(seed: c.seed).derived("data")
        var train: ImageDataset, test: ImageDataset
        switch c.dataset {
        case .shapes(let size, let noise):
            var trainRNG = root.derived("shapes-train"), testRNG = root.derived("shapes-test")
            train = Shapes.generate(count: c.trainSplit, size: size, noise: noise, rng: &trainRNG)
            test = Shapes.generate(count: c.testSplit, size: size, noise: noise, rng: &testRNG)
        default:
            let all = try load(c.dataset)
            var splitRNG = root.derived("split")
            let (trainIndices, testIndices): ([Int], [Int])
            do {
                (trainIndices, testIndices) = try stratifiedSplit(labels: all.labels, trainCount: c.trainSplit,
                                                                  testCount: c.testSplit, rng: &splitRNG)
            } catch var error as DatasetError {
                error.path = c.dataset.files.joined(separator: ", ")  // name the file, not the function
                throw error
            }
            train = all.subset(trainIndices)
            test = all.subset(testIndices)
        }
        if case .gainOffset(let gain, let offset) = c.jitter {
            let jitter = Jitter(gain: gain, offset: offset)
            if c.jitterApply == .both || c.jitterApply == .train { var r = root.derived("jitter-train"); jitter.apply(to: &train, rng: &r) }
            if c.jitterApply == .both || c.jitterApply == .test { var r = root.derived("jitter-test"); jitter.apply(to: &test, rng: &r) }
        }
        LossyStorage.store(&test, as: c.testStorage)
        let unit = StandardizationUnit.of(c.dataset)
        let trainStatistics = ChannelStatistics(of: train, per: unit)
        if c.normalize == .train { normalize(&train, with: trainStatistics) }
        switch c.testNormalize {
        case .same: if c.normalize == .train { normalize(&test, with: trainStatistics) }
        case .none: break
        case .own: normalize(&test, with: ChannelStatistics(of: test, per: unit))
        case .fixed(let mean, let std):
            normalize(&test, with: ChannelStatistics(mean: Array(repeating: mean, count: test.channels),
                                                     std: Array(repeating: std, count: test.channels)))
        }
        let overlap = min(Int((Double(c.splitOverlap) * Double(test.count)).rounded()), train.count)
        if overlap > 0 {
            let size = train.sampleSize
            for i in 0..<overlap {
                for j in 0..<size { test.images[i * size + j] = train.images[i * size + j] }
                test.labels[i] = train.labels[i]
            }
        }
        return PreparedData(train: train, test: test, testOverlap: test.count == 0 ? 0 : Double(overlap) / Double(test.count))
    }
}
