import XCTest
import Charts
import Datasets
import Experiment
import Reports
import SpecFormat

/// loadCIFAR10 on small batch files written by the tests.
final class DataCIFAR10Tests: DataFileTestCase {
    /// One record: `label`, then pixel byte k = (k + seed) mod 251.
    static func record(label: UInt8, seed: Int) -> [UInt8] {
        [label] + (0..<3072).map { UInt8(($0 + seed) % 251) }
    }

    func testBatchesAreConcatenatedInOrderAsChannelMajorImages() throws {
        let first = try write("data_batch_1.bin", Self.record(label: 3, seed: 0) + Self.record(label: 9, seed: 1))
        let second = try write("data_batch_2.bin.gz", StoredGzip.compress(Self.record(label: 0, seed: 2)))
        let dataset = try loadCIFAR10(paths: [first, second], scale: 0.5)
        XCTAssertEqual(dataset.name, "cifar10")
        XCTAssertEqual([dataset.count, dataset.channels, dataset.height, dataset.width], [3, 3, 32, 32])
        XCTAssertEqual(dataset.labels, [3, 9, 0])
        XCTAssertEqual(dataset.classCount, 10)
        for (n, seed) in [0, 1, 2].enumerated() {
            let image = Array(dataset.images[(n * 3072)..<((n + 1) * 3072)])
            XCTAssertEqual(image, (0..<3072).map { Float(($0 + seed) % 251) * 0.5 })
        }
        // NCHW: green channel (c = 1), row 2, column 5 of image 0 is pixel byte 1024 + 2 * 32 + 5.
        XCTAssertEqual(dataset.images[(0 * 3 + 1) * 1024 + 2 * 32 + 5], Float((1024 + 64 + 5) % 251) * 0.5)
    }

    func testTruncatedFileNamesFileAndByteCount() throws {
        let good = try write("good.bin", Self.record(label: 1, seed: 0))
        let cut = try write("cut.bin", Self.record(label: 1, seed: 0) + Array(Self.record(label: 2, seed: 0).prefix(100)))
        let error = assertDatasetError(try loadCIFAR10(paths: [good, cut]), path: cut,
                                       message: "file has 3173 bytes, not a multiple of the 3073-byte record")
        XCTAssertEqual(error?.line, nil)
    }

    func testLabelAboveNineIsRejected() throws {
        let path = try write("labels.bin", Self.record(label: 1, seed: 0) + Self.record(label: 10, seed: 0))
        assertDatasetError(try loadCIFAR10(paths: [path]), path: path,
                           message: "record 1 (byte 3073) has label 10, not in 0...9")
    }

    func testNoRecords() throws {
        assertDatasetError(try loadCIFAR10(paths: []), path: "cifar10", message: "no CIFAR-10 records")
        let empty = try write("empty.bin", [])
        assertDatasetError(try loadCIFAR10(paths: [empty]), path: empty, message: "no CIFAR-10 records")
    }
}
