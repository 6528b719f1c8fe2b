import XCTest
import Charts
import Datasets
import Experiment
import SpecFormat

/// loadIDX on small MNIST-format files written by the tests.
final class DataIDXTests: DataFileTestCase {
    static func bigEndian(_ values: [UInt32]) -> [UInt8] {
        values.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32($0))) } }
    }

    /// 3 images of 2x3 pixels with bytes 0, 10, ..., 170, and labels 4, 0, 9.
    static let imageFile = bigEndian([0x803, 3, 2, 3]) + (0..<18).map { UInt8($0 * 10) }
    static let labelFile = bigEndian([0x801, 3]) + [4, 0, 9]

    func testLoadsPlainAndGzippedFiles() throws {
        let images = try write("tiny-images-idx3-ubyte", Self.imageFile)
        let labels = try write("tiny-labels-idx1-ubyte.gz", StoredGzip.compress(Self.labelFile))
        let dataset = try loadIDX(imagesPath: images, labelsPath: labels, scale: 1 / 255)
        XCTAssertEqual(dataset.name, "tiny-images-idx3-ubyte")
        XCTAssertEqual([dataset.count, dataset.channels, dataset.height, dataset.width], [3, 1, 2, 3])
        XCTAssertEqual(dataset.labels, [4, 0, 9])
        XCTAssertEqual(dataset.classCount, 10)
        XCTAssertEqual(dataset.images, (0..<18).map { Float($0 * 10) * (1 / 255 as Float) })
    }

    func testWrongMagicNamesTheFile() throws {
        let images = try write("images", Self.imageFile)
        let labels = try write("labels", Self.labelFile)
        assertDatasetError(try loadIDX(imagesPath: labels, labelsPath: images), path: labels,
                           message: "magic number 0x00000801 is not the IDX image magic 0x00000803")
        let signed = try write("signed", Self.bigEndian([0x903, 3, 2, 3]) + Array(Self.imageFile[16...]))
        assertDatasetError(try loadIDX(imagesPath: signed, labelsPath: labels), path: signed,
                           message: "magic number 0x00000903")
    }

    func testHeaderDimensionsMustMatchTheFileSize() throws {
        let labels = try write("labels", Self.labelFile)
        let long = try write("long", Self.imageFile + [0])
        assertDatasetError(try loadIDX(imagesPath: long, labelsPath: labels), path: long,
                           message: "header dimensions 3x2x3 need 16 + 18 bytes but the file has 35")
        let huge = try write("huge", Self.bigEndian([0x803, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF]))
        assertDatasetError(try loadIDX(imagesPath: huge, labelsPath: labels), path: huge,
                           message: "need 16 + too many bytes but the file has 16")
        let short = try write("short", Array(Self.imageFile.prefix(10)))
        assertDatasetError(try loadIDX(imagesPath: short, labelsPath: labels), path: short,
                           message: "file has 10 bytes, shorter than the 16-byte IDX image header")
        let images = try write("images", Self.imageFile)
        let shortLabels = try write("short-labels", Self.bigEndian([0x801, 3]) + [1, 2])
        assertDatasetError(try loadIDX(imagesPath: images, labelsPath: shortLabels), path: shortLabels,
                           message: "header dimensions 3 need 8 + 3 bytes but the file has 10")
    }

    func testImageAndLabelCountsMustAgree() throws {
        let images = try write("images", Self.imageFile)
        let labels = try write("labels", Self.bigEndian([0x801, 2]) + [1, 2])
        assertDatasetError(try loadIDX(imagesPath: images, labelsPath: labels), path: labels,
                           message: "has 2 labels but \(images) has 3 images")
    }
}
