import Foundation
import XCTest
import Charts
import Datasets
import Experiment
import SpecFormat
import TensorCore

final class DataShapesTests: XCTestCase {
    func testLabelsAreBalancedAndShuffled() {
        var rng = RandomGenerator(seed: 1)
        let dataset = Shapes.generate(count: 301, rng: &rng)
        XCTAssertEqual((0..<3).map { c in dataset.labels.filter { $0 == c }.count }, [101, 100, 100])
        XCTAssertNotEqual(dataset.labels, (0..<301).map { Int32($0 % 3) })
        XCTAssertEqual([dataset.channels, dataset.height, dataset.width, dataset.classCount], [1, 16, 16, 3])
        XCTAssertEqual(dataset.name, "shapes")
        XCTAssertEqual(Shapes.classNames, ["disc", "square", "cross"])
    }

    func testDeterministicBySeed() {
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9), c = RandomGenerator(seed: 10)
        let first = Shapes.generate(count: 30, size: 20, rng: &a)
        XCTAssertEqual(first, Shapes.generate(count: 30, size: 20, rng: &b))
        XCTAssertEqual(a, b, "the same number of draws")
        XCTAssertNotEqual(first.images, Shapes.generate(count: 30, size: 20, rng: &c).images)
    }

    /// The doc comment's recipe, transcribed independently, gives bit-identical images.
    func testFollowsTheDocumentedRecipeExactly() {
        var rng = RandomGenerator(seed: 5)
        let dataset = Shapes.generate(count: 12, size: 14, noise: 0.3, rng: &rng)
        var reference = RandomGenerator(seed: 5)
        var labels = (0..<12).map { Int32($0 % 3) }
        reference.shuffle(&labels)
        XCTAssertEqual(dataset.labels, labels)
        var expected: [Float] = []
        for label in labels {
            let r = reference.uniform(3, 6)
            let cx = reference.uniform(r, 14 - r), cy = reference.uniform(r, 14 - r)
            for y in 0..<14 {
                for x in 0..<14 {
                    let dx = abs(Float(x) + 0.5 - cx), dy = abs(Float(y) + 0.5 - cy)
                    let inside = [dx * dx + dy * dy <= r * r,
                                  max(dx, dy) <= 0.85 * r,
                                  (dx <= r && dy <= r / 3) || (dy <= r && dx <= r / 3)][Int(label)]
                    expected.append((inside ? 1 : 0) + 0.3 * reference.normal())
                }
            }
        }
        XCTAssertEqual(dataset.images, expected)
    }

    /// Without noise every pixel is 0 or 1, and the mean ink of a class is its area averaged over
    /// r ~ U[3, 6) with E[r^2] = (6^3 - 3^3) / (3 * 3) = 21: disc pi * 21 = 65.97, square
    /// 1.7^2 * 21 = 60.69, cross (20/9) * 21 = 46.67. Tolerance 5%: the standard error of a class
    /// mean over 1500 images is about 0.6 pixels (1%).
    func testNoiselessPixelsAreBinaryAndInkMatchesArea() {
        var rng = RandomGenerator(seed: 2)
        let dataset = Shapes.generate(count: 4500, noise: 0, rng: &rng)
        XCTAssertTrue(dataset.images.allSatisfy { $0 == 0 || $0 == 1 })
        var ink = [Double](repeating: 0, count: 3)
        for n in 0..<dataset.count {
            ink[Int(dataset.labels[n])] += Double(dataset.images[(n * 256)..<((n + 1) * 256)].reduce(0, +)) / 1500
        }
        for (measured, area) in zip(ink, [Double.pi * 21, 1.7 * 1.7 * 21, 20.0 / 9 * 21]) {
            XCTAssertEqual(measured, area, accuracy: 0.05 * area)
        }
    }

    /// The same seed gives the same shapes at every noise level; the difference is Gaussian noise
    /// of the requested std (76,800 values: standard error of the std about 0.0007, tolerance 0.005).
    func testNoiseIsAddedWithTheRequestedStd() {
        var a = RandomGenerator(seed: 3), b = RandomGenerator(seed: 3)
        let clean = Shapes.generate(count: 300, noise: 0, rng: &a)
        let noisy = Shapes.generate(count: 300, noise: 0.25, rng: &b)
        XCTAssertEqual(clean.labels, noisy.labels)
        let difference = zip(noisy.images, clean.images).map { Double($0 - $1) }
        let mean = difference.reduce(0, +) / Double(difference.count)
        let std = (difference.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(difference.count)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 0.005)
        XCTAssertEqual(std, 0.25, accuracy: 0.005)
    }
}
