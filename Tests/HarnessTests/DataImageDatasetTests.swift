import XCTest
import Charts
import Datasets
import Experiment
import Reports
import SpecFormat

final class DataImageDatasetTests: XCTestCase {
    func testErrorDescriptionLeavesOutUnknownParts() {
        XCTAssertEqual(DatasetError(path: "a.csv", line: 3, column: 7, message: "m").description, "a.csv:3:7: error: m")
        XCTAssertEqual(DatasetError(path: "a.csv", line: 3, message: "m").description, "a.csv:3: error: m")
        XCTAssertEqual(DatasetError(path: "a.bin", message: "m").description, "a.bin: error: m")
        XCTAssertEqual(DatasetError(path: "a.bin", column: 2, message: "m").description, "a.bin: error: m")
    }

    func testInitValidatesCountsLabelsAndShape() throws {
        assertDatasetError(try ImageDataset(name: "d", channels: 1, height: 2, width: 2, images: [0, 0, 0],
                                            labels: [0], classCount: 1),
                           path: "d", message: "3 pixel values do not make 1 images of 1x2x2 (need 4)")
        assertDatasetError(try ImageDataset(name: "d", channels: 1, height: 1, width: 1, images: [0, 0],
                                            labels: [0, 2], classCount: 2),
                           path: "d", message: "label 2 of image 1 is not in 0..<2")
        assertDatasetError(try ImageDataset(name: "d", channels: 1, height: 1, width: 1, images: [0],
                                            labels: [-1], classCount: 2),
                           path: "d", message: "label -1 of image 0 is not in 0..<2")
        assertDatasetError(try ImageDataset(name: "d", channels: 0, height: 1, width: 1, images: [],
                                            labels: [], classCount: 2),
                           path: "d", message: "image shape 0x1x1 must be positive")
        assertDatasetError(try ImageDataset(name: "d", channels: 1, height: 1, width: 1, images: [],
                                            labels: [], classCount: 0),
                           path: "d", message: "classCount must be in 1...10000, got 0")
        assertDatasetError(try ImageDataset(name: "d", channels: 1, height: 1, width: 1, images: [],
                                            labels: [], classCount: ImageDataset.maxClassCount + 1),
                           path: "d", message: "classCount must be in 1...10000, got 10001")
    }

    func testSubsetGathersImagesAndLabelsInOrder() throws {
        let dataset = try ImageDataset(name: "d", channels: 2, height: 1, width: 1,
                                       images: [0, 1, 10, 11, 20, 21], labels: [0, 1, 2], classCount: 3)
        let subset = dataset.subset([2, 0, 2])
        XCTAssertEqual(subset.images, [20, 21, 0, 1, 20, 21])
        XCTAssertEqual(subset.labels, [2, 0, 2])
        XCTAssertEqual([subset.count, subset.sampleSize, subset.classCount], [3, 2, 3])
        XCTAssertEqual(dataset.subset([]).count, 0)
    }
}
