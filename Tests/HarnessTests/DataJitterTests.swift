import Foundation
import XCTest
import Charts
import Datasets
import SpecFormat
import TensorCore

final class DataJitterTests: XCTestCase {
    /// `count` images of `channels` x 1 x 2 pixels (0, 1) in every channel: after jitter,
    /// pixel 0 is the offset and pixel 1 minus pixel 0 the gain.
    func ramps(count: Int, channels: Int = 1) throws -> ImageDataset {
        try ImageDataset(name: "ramps", channels: channels, height: 1, width: 2,
                         images: Array([[Float]](repeating: [0, 1], count: count * channels).joined()),
                         labels: [Int32](repeating: 0, count: count), classCount: 1)
    }

    /// Log-gain uniform on [log 0.25, log 4]: mean 0 (the log of the geometric mean 1, while the
    /// arithmetic mean of the range is 2.125) and std log(16)/sqrt(12) = 0.80; over 4000 images
    /// the standard error of the mean is 0.013, tolerance 0.05. Offset uniform on [-1, 3]: mean 1,
    /// standard error 0.018, tolerance 0.07.
    func testGainIsLogUniformAndOffsetUniform() throws {
        var dataset = try ramps(count: 4000)
        var rng = RandomGenerator(seed: 1)
        Jitter(gain: 0.25...4, offset: -1...3).apply(to: &dataset, rng: &rng)
        let offsets = stride(from: 0, to: dataset.images.count, by: 2).map { dataset.images[$0] }
        let gains = stride(from: 0, to: dataset.images.count, by: 2).map { dataset.images[$0 + 1] - dataset.images[$0] }
        XCTAssertTrue(gains.allSatisfy { $0 >= 0.25 * (1 - 1e-5) && $0 <= 4 * (1 + 1e-5) }, "Float rounding only")
        XCTAssertTrue(offsets.allSatisfy { $0 >= -1 && $0 <= 3 })
        let logGains = gains.map { log(Double($0)) }
        XCTAssertEqual(logGains.reduce(0, +) / 4000, 0, accuracy: 0.05)
        let logStd = (logGains.map { $0 * $0 }.reduce(0, +) / 4000).squareRoot()
        XCTAssertEqual(logStd, log(16) / 12.0.squareRoot(), accuracy: 0.05)
        XCTAssertEqual(Double(gains.filter { $0 < 1 }.count) / 4000, 0.5, accuracy: 0.03, "median near 1")
        XCTAssertEqual(offsets.map(Double.init).reduce(0, +) / 4000, 1, accuracy: 0.07)
    }

    func testOneGainAndOffsetPerImageAcrossChannels() throws {
        var dataset = try ramps(count: 5, channels: 3)
        var rng = RandomGenerator(seed: 2)
        Jitter(gain: 0.5...2, offset: -0.5...0.5).apply(to: &dataset, rng: &rng)
        var reference = RandomGenerator(seed: 2)
        for n in 0..<5 {
            let g = exp(reference.uniform(log(0.5), log(2))), o = reference.uniform(-0.5, 0.5)
            XCTAssertEqual(Array(dataset.images[(n * 6)..<((n + 1) * 6)]), [o, g + o, o, g + o, o, g + o])
        }
    }

    func testIdentityJitterKeepsTheDataAndSeedsAreDeterministic() throws {
        let original = try ramps(count: 10)
        var identity = original, rng = RandomGenerator(seed: 3)
        Jitter(gain: 1...1, offset: 0...0).apply(to: &identity, rng: &rng)
        XCTAssertEqual(identity, original)
        var a = original, b = original, c = original
        var ra = RandomGenerator(seed: 4), rb = RandomGenerator(seed: 4), rc = RandomGenerator(seed: 5)
        let jitter = Jitter(gain: 0.5...2, offset: -1...1)
        jitter.apply(to: &a, rng: &ra)
        jitter.apply(to: &b, rng: &rb)
        jitter.apply(to: &c, rng: &rc)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }
}
