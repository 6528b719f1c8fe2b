import Foundation
import XCTest
import Charts
import Datasets
import Experiment
import SpecFormat

/// The vendored Datasets/mnist_5k.csv.gz, found relative to this file.
final class DataMNISTTests: XCTestCase {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Datasets/mnist_5k.csv.gz").path

    func testDecompressesToTheDocumentedSize() throws {
        XCTAssertEqual(try Gzip.readMaybeGzipped(path: Self.path).count, 9_139_322)
    }

    /// Counts and the pixel sum 131,267,102 come from Python's gzip + csv on the same file.
    func testLoadsFiveThousandSortedImages() throws {
        let dataset = try loadCSVImages(path: Self.path, labelColumn: .last, shape: (1, 28, 28), header: .absent)
        XCTAssertEqual(dataset.name, "mnist_5k")
        XCTAssertEqual(dataset.count, 5000)
        XCTAssertEqual(dataset.sampleSize, 784)
        XCTAssertEqual(dataset.classCount, 10)
        XCTAssertEqual((0..<10).map { label in dataset.labels.filter { $0 == label }.count },
                       [Int](repeating: 500, count: 10))
        XCTAssertEqual(dataset.labels, dataset.labels.sorted(), "the file is sorted by label")
        XCTAssertEqual(dataset.images.reduce(0.0) { $0 + Double($1) }, 131_267_102, "exact: integer sums")
        XCTAssertEqual(dataset.images.max(), 255)
        XCTAssertEqual(dataset.images.prefix(784).filter { $0 != 0 }.count, 176)
    }
}
