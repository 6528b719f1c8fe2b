@testable import Datasets
import SpecFormat
import XCTest

/// `test_storage`: the lossy formats, on hand images whose stored values are known.
final class DataLossyStorageTests: XCTestCase {
    private func image(_ values: [Float], channels: Int = 1, height: Int, width: Int) throws -> ImageDataset {
        try ImageDataset(name: "hand", channels: channels, height: height, width: width, images: values,
                         labels: [0], classCount: 1)
    }

    /// lo = -1, hi = 3, 4 levels of 1 each at uint4 (15 levels: step 4/15): 0.1 -> round(1.1 * 15 / 4) = 4 -> -1 + 16/15.
    func testQuantizationRoundsToTheImagesLevels() throws {
        var data = try image([-1, 0.1, 3, 1], height: 2, width: 2)
        LossyStorage.store(&data, as: .uint4)
        let step = 4.0 / 15
        let expected = [-1, -1 + 4 * step, 3, -1 + 8 * step].map { Float($0) }  // 2 * 15 / 4 = 7.5 -> 8 (away from 0)
        XCTAssertEqual(data.images, expected)
        var eightBit = try image([-1, 0.1, 3, 1], height: 2, width: 2)
        LossyStorage.store(&eightBit, as: .uint8)
        XCTAssertEqual(eightBit.images[0], -1, "the extremes are levels")
        XCTAssertEqual(eightBit.images[2], 3)
        XCTAssertEqual(Double(eightBit.images[1]), -1 + (1.1 * 255 / 4).rounded() * 4 / 255, accuracy: 1e-6)
    }

    func testAConstantImageIsKept() throws {
        var data = try image([0.5, 0.5, 0.5, 0.5], height: 2, width: 2)
        LossyStorage.store(&data, as: .uint8)
        XCTAssertEqual(data.images, [0.5, 0.5, 0.5, 0.5])
    }

    /// 3x3: blocks {0,1,3,4}, {2,5}, {6,7}, {8}.
    func testHalfResolutionAveragesEveryBlockIncludingTheOddEdge() throws {
        var data = try image([1, 2, 3, 4, 5, 6, 7, 8, 9], height: 3, width: 3)
        LossyStorage.store(&data, as: .halfResolution)
        XCTAssertEqual(data.images, [3, 3, 4.5, 3, 3, 4.5, 7.5, 7.5, 9])
    }

    func testLosslessChangesNothing() throws {
        let original = try image([1, 2, 3, 4], height: 2, width: 2)
        var data = original
        LossyStorage.store(&data, as: .lossless)
        XCTAssertEqual(data, original)
    }
}
