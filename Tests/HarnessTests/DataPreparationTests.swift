import Charts
import Datasets
import Experiment
import Reports
import SpecFormat
import TensorCore
import XCTest

/// `DataPreparation.prepare` against the raw splits of the same seed (`normalize none`,
/// `test_normalize none`, no jitter, no overlap): what `normalize` / `test_normalize`,
/// `jitter_apply` and `split_overlap` do to each split.
///
/// Where the harness and the test perform the same Float32 operations (`(x - mean) / std`)
/// the comparison is bitwise; standardized moments are checked in Double to 1e-5, the
/// Float32 rounding of each standardized value (relative 6e-8) summed over 144 * N values.
final class DataPreparationTests: XCTestCase {
    func config(_ edit: (inout ExperimentConfig) -> Void = { _ in }) -> ExperimentConfig {
        var c = ExperimentConfig()
        c.dataset = .shapes(size: 12, noise: 0.25)
        c.trainSplit = 30
        c.testSplit = 30
        c.seed = 4
        c.normalize = .none
        c.testNormalize = .none
        edit(&c)
        return c
    }

    func raw() throws -> PreparedData { try DataPreparation().prepare(config()) }

    /// `(x - mean) / std` per value, in Float32 as `normalize(_:with:)` computes it.
    func standardized(_ values: [Float], mean: Float, std: Float) -> [Float] { values.map { ($0 - mean) / std } }

    func assertStandardized(_ data: ImageDataset, file: StaticString = #filePath, line: UInt = #line) {
        let moments = populationMoments(data)
        XCTAssertEqual(moments.mean[0], 0, accuracy: 1e-5, file: file, line: line)
        XCTAssertEqual(moments.variance[0].squareRoot(), 1, accuracy: 1e-5, file: file, line: line)
    }

    func testTrainNormalizationWithEachTestNormalization() throws {
        let base = try raw()
        let train = ChannelStatistics(of: base.train)
        let own = ChannelStatistics(of: base.test)
        XCTAssertNotEqual(train, own, "the splits' statistics differ, so the settings are distinguishable")
        let expectations: [(TestNormalization, [Float])] = [
            (.same, standardized(base.test.images, mean: train.mean[0], std: train.std[0])),
            (.none, base.test.images),
            (.own, standardized(base.test.images, mean: own.mean[0], std: own.std[0])),
            (.fixed(mean: 0.5, std: 2), standardized(base.test.images, mean: 0.5, std: 2)),
        ]
        for (testNormalize, expected) in expectations {
            let prepared = try DataPreparation().prepare(config { $0.normalize = .train; $0.testNormalize = testNormalize })
            XCTAssertEqual(prepared.train.images, standardized(base.train.images, mean: train.mean[0], std: train.std[0]))
            assertStandardized(prepared.train)
            XCTAssertEqual(prepared.test.images, expected, "\(testNormalize)")
            XCTAssertEqual(prepared.test.labels, base.test.labels)
        }
        assertStandardized(try DataPreparation().prepare(config { $0.normalize = .train; $0.testNormalize = .own }).test)
    }

    func testWithoutTrainNormalizationSameMeansRaw() throws {
        let base = try raw()
        let same = try DataPreparation().prepare(config { $0.testNormalize = .same })
        XCTAssertEqual(same.train.images, base.train.images)
        XCTAssertEqual(same.test.images, base.test.images)
        let own = try DataPreparation().prepare(config { $0.testNormalize = .own })
        XCTAssertEqual(own.train.images, base.train.images)
        assertStandardized(own.test)
    }

    func testJitterApplyChoosesTheSplits() throws {
        let base = try raw()
        func jittered(_ apply: JitterApply) throws -> PreparedData {
            try DataPreparation().prepare(config {
                $0.jitter = .gainOffset(gain: 0.5...2, offset: -1...1)
                $0.jitterApply = apply
            })
        }
        let both = try jittered(.both), train = try jittered(.train), test = try jittered(.test), none = try jittered(.none)
        XCTAssertEqual(none.train.images, base.train.images)
        XCTAssertEqual(none.test.images, base.test.images)
        XCTAssertEqual(train.test.images, base.test.images)
        XCTAssertEqual(test.train.images, base.train.images)
        assertJittered(train.train, from: base.train)
        assertJittered(test.test, from: base.test)
        // each split draws from its own stream: `both` jitters each split as the one-split settings do
        XCTAssertEqual(both.train.images, train.train.images)
        XCTAssertEqual(both.test.images, test.test.images)
    }

    /// Every image of `jittered` is `g * x + o` of the same image of `raw`, with `g` in
    /// [0.5, 2] and `o` in [-1, 1] (least-squares fit in Double; residuals below 1e-5, the
    /// Float32 rounding of values below 10), and not the identity.
    func assertJittered(_ jittered: ImageDataset, from raw: ImageDataset, file: StaticString = #filePath, line: UInt = #line) {
        let size = raw.sampleSize
        var gains: [Double] = []
        for n in 0..<raw.count {
            let x = raw.images[(n * size)..<((n + 1) * size)].map(Double.init)
            let y = jittered.images[(n * size)..<((n + 1) * size)].map(Double.init)
            let mx = x.reduce(0, +) / Double(size), my = y.reduce(0, +) / Double(size)
            var covariance = 0.0, variance = 0.0
            for (a, b) in zip(x, y) {
                covariance += (a - mx) * (b - my)
                variance += (a - mx) * (a - mx)
            }
            let g = covariance / variance
            let o = my - g * mx
            var residual = 0.0
            for (a, b) in zip(x, y) { residual = max(residual, abs(g * a + o - b)) }
            XCTAssertLessThan(residual, 1e-5, "image \(n)", file: file, line: line)
            XCTAssertTrue((0.5 - 1e-5)...(2 + 1e-5) ~= g, "image \(n): gain \(g)", file: file, line: line)
            XCTAssertTrue((-1 - 1e-5)...(1 + 1e-5) ~= o, "image \(n): offset \(o)", file: file, line: line)
            gains.append(g)
        }
        XCTAssertGreaterThan(Set(gains.map { ($0 * 1000).rounded() }).count, raw.count / 2, "gains differ per image",
                             file: file, line: line)
    }

    /// Tabular rows (a CSV without shape=, 1 x 1 x K) are standardized per feature: each of the
    /// three features below has its own scale (0..59, about 1000, 0..0.04), and after
    /// `normalize train` each has mean 0 and std 1 over the training split (`test_normalize own`:
    /// over the test split). Tolerance 1e-5 as above (60 values per feature of magnitude below 3).
    func testTabularRowsAreStandardizedPerFeature() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bnlab-tabular-\(UUID().uuidString).csv").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        let rows = (0..<60).map { i in "\(i),\(1000 + (i * 7) % 11),\(Double(i % 5) / 100),\(i % 3)" }
        try (rows.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        func prepared(_ testNormalize: TestNormalization) throws -> PreparedData {
            try DataPreparation().prepare(config {
                $0.dataset = .csv(CSVSource(path: path, labelColumn: .last))
                $0.normalize = .train
                $0.testNormalize = testNormalize
            })
        }
        func featureMoments(_ data: ImageDataset) -> [(mean: Double, std: Double)] {
            (0..<data.sampleSize).map { j in
                let v = (0..<data.count).map { Double(data.images[$0 * data.sampleSize + j]) }
                let mean = v.reduce(0, +) / Double(v.count)
                return (mean, (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)).squareRoot())
            }
        }
        let same = try prepared(.same), own = try prepared(.own)
        XCTAssertEqual([same.train.channels, same.train.height, same.train.width], [1, 1, 3])
        for (data, split) in [(same.train, "train"), (own.test, "test, own")] {
            for (j, m) in featureMoments(data).enumerated() {
                XCTAssertEqual(m.mean, 0, accuracy: 1e-5, "\(split): feature \(j) mean")
                XCTAssertEqual(m.std, 1, accuracy: 1e-5, "\(split): feature \(j) std")
            }
        }
    }

    func testSplitOverlapReplacesTheFirstTestSamplesByTrainingSamples() throws {
        let base = try raw()
        // round(0.25 * 30) = round(7.5) = 8 (halves away from zero)
        let leaky = try DataPreparation().prepare(config { $0.splitOverlap = 0.25 })
        let size = base.train.sampleSize
        XCTAssertEqual(leaky.testOverlap, 8.0 / 30.0)
        XCTAssertEqual(Array(leaky.test.images[0..<(8 * size)]), Array(base.train.images[0..<(8 * size)]))
        XCTAssertEqual(Array(leaky.test.labels[0..<8]), Array(base.train.labels[0..<8]))
        XCTAssertEqual(Array(leaky.test.images[(8 * size)...]), Array(base.test.images[(8 * size)...]))
        XCTAssertEqual(Array(leaky.test.labels[8...]), Array(base.test.labels[8...]))
        XCTAssertEqual(leaky.train, base.train)
        XCTAssertNotEqual(Array(base.test.images[0..<size]), Array(base.train.images[0..<size]))
        XCTAssertEqual(base.testOverlap, 0)

        // after normalization, the copied samples are the processed training samples
        let normalized = try DataPreparation().prepare(config { $0.splitOverlap = 0.2; $0.normalize = .train; $0.testNormalize = .same })
        XCTAssertEqual(normalized.testOverlap, 6.0 / 30.0)
        XCTAssertEqual(Array(normalized.test.images[0..<(6 * size)]), Array(normalized.train.images[0..<(6 * size)]))

        // never more than the training split holds
        let all = try DataPreparation().prepare(config { $0.splitOverlap = 1; $0.trainSplit = 20 })
        XCTAssertEqual(all.testOverlap, 20.0 / 30.0)
        XCTAssertEqual(Array(all.test.images[0..<(20 * size)]), all.train.images)
    }
}
