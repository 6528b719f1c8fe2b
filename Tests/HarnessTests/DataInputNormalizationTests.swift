import XCTest
import Datasets
import SpecFormat

final class DataInputNormalizationTests: XCTestCase {
    /// 2 images, 2 channels of 1x2 pixels: channel 0 holds 1, 3, 5, 7 (mean 4, population
    /// variance (9 + 1 + 1 + 9) / 4 = 5), channel 1 holds 2 everywhere (std 0).
    func twoChannels() throws -> ImageDataset {
        try ImageDataset(name: "known", channels: 2, height: 1, width: 2,
                         images: [1, 3, 2, 2, 5, 7, 2, 2], labels: [0, 1], classCount: 2)
    }

    func testStatisticsOfKnownNumbers() throws {
        let statistics = ChannelStatistics(of: try twoChannels())
        XCTAssertEqual(statistics.mean, [4, 2])
        XCTAssertEqual(statistics.std[0], Float(5.0.squareRoot()), "Double accumulation, one Float rounding")
        XCTAssertEqual(statistics.std[1], 0)
    }

    /// Float tolerance 1e-6: one subtraction and one division of values below 4.
    func testNormalizeStandardizesAndOnlyCentresConstantChannels() throws {
        var dataset = try twoChannels()
        normalize(&dataset, with: ChannelStatistics(of: dataset))
        let root5 = Float(5.0.squareRoot())
        let expected: [Float] = [-3 / root5, -1 / root5, 0, 0, 1 / root5, 3 / root5, 0, 0]
        for (value, wanted) in zip(dataset.images, expected) { XCTAssertEqual(value, wanted, accuracy: 1e-6) }
        let after = ChannelStatistics(of: dataset)
        XCTAssertEqual(after.mean[0], 0, accuracy: 1e-6)
        XCTAssertEqual(after.std[0], 1, accuracy: 1e-6)
    }

    /// Per feature (tabular rows, 1 x 1 x 2): rows (1, 10) and (3, 30) give means (2, 20) and
    /// population stds (1, 10), and standardizing leaves -1 and 1 in both features (exact in Float).
    func testFeatureStatisticsOfKnownNumbers() throws {
        var rows = try ImageDataset(name: "rows", channels: 1, height: 1, width: 2, images: [1, 10, 3, 30],
                                    labels: [0, 1], classCount: 2)
        let statistics = ChannelStatistics(of: rows, per: .feature)
        XCTAssertEqual(statistics, ChannelStatistics(mean: [2, 20], std: [1, 10], unit: .feature))
        XCTAssertEqual(ChannelStatistics(of: rows).mean, [11], "per channel: one mean over both features")
        normalize(&rows, with: statistics)
        XCTAssertEqual(rows.images, [-1, -1, 1, 1])
    }

    func testGivenStatisticsAreAppliedAsWritten() throws {
        var dataset = try twoChannels()
        normalize(&dataset, with: ChannelStatistics(mean: [1, 0], std: [2, 0.5]))
        XCTAssertEqual(dataset.images, [0, 1, 4, 4, 2, 3, 4, 4])
    }
}
