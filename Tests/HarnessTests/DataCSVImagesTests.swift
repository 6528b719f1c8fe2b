import XCTest
import Charts
import Datasets
import Experiment
import Reports
import SpecFormat

/// loadCSVImages on small files written by the tests: every option, then every kind of bad file.
final class DataCSVImagesTests: DataFileTestCase {
    func testHeaderAutoLabelLastWithShapeAndScale() throws {
        let path = try write("tiny.csv", text: "p0,p1,p2,p3,label\n0,10,20,30,2\n40,50,60,70,0\n")
        let dataset = try loadCSVImages(path: path, labelColumn: .last, shape: (1, 2, 2), scale: 0.5)
        XCTAssertEqual(dataset.name, "tiny")
        XCTAssertEqual([dataset.channels, dataset.height, dataset.width, dataset.count], [1, 2, 2, 2])
        XCTAssertEqual(dataset.images, [0, 5, 10, 15, 20, 25, 30, 35])
        XCTAssertEqual(dataset.labels, [2, 0])
        XCTAssertEqual(dataset.classCount, 3)
    }

    func testLabelFirstAndByIndexAndNoShape() throws {
        let path = try write("rows.csv", text: "1,2,3\n0,4,5\n")
        let first = try loadCSVImages(path: path, labelColumn: .first)
        XCTAssertEqual([first.channels, first.height, first.width], [1, 1, 2])
        XCTAssertEqual(first.labels, [1, 0])
        XCTAssertEqual(first.images, [2, 3, 4, 5])
        let middle = try loadCSVImages(path: path, labelColumn: .index(1), header: .absent)
        XCTAssertEqual(middle.labels, [2, 4])
        XCTAssertEqual(middle.images, [1, 3, 0, 5])
        XCTAssertEqual(middle.classCount, 5)
    }

    func testNumberSyntaxLineEndsBlankLinesAndSpaces() throws {
        let text = "\r\n 1 ,-2.5,3e-2,.5,5.,+7,1E3,\t-0.125e+1 ,0\r\n\n   \n2,0,0,0,0,0,0,0,1"
        let dataset = try loadCSVImages(path: try write("syntax.csv", text: text), labelColumn: .last)
        XCTAssertEqual(dataset.labels, [0, 1])
        // Every value is exactly representable, so equality is exact.
        XCTAssertEqual(Array(dataset.images.prefix(8)), [1, -2.5, Float(0.03), 0.5, 5, 7, 1000, -1.25])
        XCTAssertEqual(Array(dataset.images.suffix(8)), [2, 0, 0, 0, 0, 0, 0, 0])
    }

    func testHeaderPresentSkipsANumericHeaderAndAbsentRejectsAText() throws {
        let path = try write("numeric-header.csv", text: "9,9,9\n1,2,0\n")
        XCTAssertEqual(try loadCSVImages(path: path, header: .present).count, 1)
        XCTAssertEqual(try loadCSVImages(path: path, header: .auto).count, 2)
        let textHeader = try write("text-header.csv", text: "a,b,label\n1,2,0\n")
        assertDatasetError(try loadCSVImages(path: textHeader, header: .absent), path: textHeader, line: 1,
                           column: 1, message: "cell 'a' (column 1) is not a finite number")
    }

    func testGzippedFileLoadsLikeThePlainOne() throws {
        let text = "1,2,3,1\n4,5,6,0\n"
        let plain = try loadCSVImages(path: try write("d.csv", text: text))
        let packed = try loadCSVImages(path: try write("d.csv.gz", StoredGzip.compress(Array(text.utf8))))
        XCTAssertEqual(packed, plain)
        XCTAssertEqual(packed.name, "d")
    }

    // MARK: Bad files

    func testRaggedRowNamesLineAndCounts() throws {
        let path = try write("ragged.csv", text: "h1,h2,h3,h4\n1,2,3,0\n\n1,2,3\n")
        let error = assertDatasetError(try loadCSVImages(path: path), path: path, line: 4,
                                       message: "row has 3 columns, expected 4 (as in line 2)")
        XCTAssertEqual(error?.description, "\(path):4: error: row has 3 columns, expected 4 (as in line 2)")
    }

    func testNonNumericCellNamesLineColumnAndText() throws {
        let path = try write("cells.csv", text: "1,2,0\n3,4x,1\n")
        let error = assertDatasetError(try loadCSVImages(path: path), path: path, line: 2, column: 3,
                                       message: "cell '4x' (column 2) is not a finite number")
        XCTAssertEqual(error?.description, "\(path):2:3: error: cell '4x' (column 2) is not a finite number")
        for bad in ["1.2.3", "e5", "-", "1e", "nan", "0x10", "", "1e999"] {
            let badPath = try write("bad.csv", text: "1,2,0\n5,\(bad),1\n")
            assertDatasetError(try loadCSVImages(path: badPath), path: badPath, line: 2, column: 3,
                               message: "cell '\(bad)' (column 2)")
        }
    }

    /// `Double(_:)` reads more than decimal numbers; what it reads beyond them is refused by name,
    /// quoting the cell as written (spaces included).
    func testNonFiniteAndHexadecimalCellsAreRefused() throws {
        for bad in ["nan", "NaN", "-nan", "nan(1)", "inf", "-inf", "Infinity", "1e999", "-1e999"] {
            let path = try write("bad.csv", text: "1,2,0\n5, \(bad),1\n")
            let error = assertDatasetError(try loadCSVImages(path: path), path: path, line: 2, column: 3, message: "")
            XCTAssertEqual(error?.message, "cell ' \(bad)' (column 2) is not a finite number")
        }
        for bad in ["0x10", "-0X1p3", "+0x1.8p1"] {
            let path = try write("hex.csv", text: "1,2,0\n5,\(bad) ,1\n")
            let error = assertDatasetError(try loadCSVImages(path: path), path: path, line: 2, column: 3, message: "")
            XCTAssertEqual(error?.message, "cell '\(bad) ' (column 2) is hexadecimal; only decimal numbers are accepted")
        }
        // Refused cells are not numbers, so such a first line is a header under `.auto`.
        let header = try write("header.csv", text: "inf,0x1,label\n1,2,0\n")
        XCTAssertEqual(try loadCSVImages(path: header).count, 1)
        // Underflow is no error: 1e-999 reads as 0, as before.
        XCTAssertEqual(try loadCSVImages(path: try write("tiny.csv", text: "1e-999,-0,1\n")).images, [0, 0])
    }

    func testLabelsMustBeNonNegativeIntegers() throws {
        for (bad, column) in [("-1", 5), ("1.5", 5)] {
            let path = try write("labels.csv", text: "1,2,0\n3,4,\(bad)\n")
            assertDatasetError(try loadCSVImages(path: path), path: path, line: 2, column: column,
                               message: "label '\(bad)' is not a non-negative integer")
        }
        XCTAssertEqual(try loadCSVImages(path: try write("ok.csv", text: "1,2,3.0\n")).labels, [3])
    }

    /// A label is a class index and the model gets one output per class: a stray huge label
    /// (which would allocate a layer of that many outputs) is refused where it stands.
    func testLabelsMustBeBelowTheClassLimit() throws {
        for bad in ["4e10", "10000"] {
            let path = try write("labels.csv", text: "1,2,0\n3,4,\(bad)\n")
            assertDatasetError(try loadCSVImages(path: path), path: path, line: 2, column: 5,
                               message: "label '\(bad)' is out of range: at most 10000 classes (labels 0...9999)")
        }
        XCTAssertEqual(try loadCSVImages(path: try write("ok.csv", text: "1,2,9999\n")).classCount, 10_000)
    }

    func testPixelCountMustMatchShape() throws {
        let path = try write("shape.csv", text: "\n1,2,3,4,0\n")
        assertDatasetError(try loadCSVImages(path: path, shape: (1, 2, 3)), path: path, line: 2,
                           message: "rows have 4 pixel values but shape 1x2x3 needs 6")
        assertDatasetError(try loadCSVImages(path: path, shape: (0, 2, 2)), path: path,
                           message: "shape 0x2x2 must be positive")
    }

    func testEmptyFilesAndHeaderOnlyFiles() throws {
        let empty = try write("empty.csv", text: "")
        assertDatasetError(try loadCSVImages(path: empty), path: empty, message: "file is empty")
        let blank = try write("blank.csv", text: "\n \n")
        assertDatasetError(try loadCSVImages(path: blank), path: blank, message: "no data rows")
        let headerOnly = try write("header.csv", text: "a,b,label\n")
        assertDatasetError(try loadCSVImages(path: headerOnly), path: headerOnly, message: "no data rows")
    }

    func testLabelColumnOutsideTheRowAndSingleColumnRows() throws {
        let path = try write("cols.csv", text: "1,2,0\n")
        assertDatasetError(try loadCSVImages(path: path, labelColumn: .index(3)), path: path, line: 1,
                           message: "label column 3 is outside the 3 columns 0..<3")
        let single = try write("single.csv", text: "1\n2\n")
        assertDatasetError(try loadCSVImages(path: single), path: single, line: 1,
                           message: "a row needs a label and at least one pixel, found 1 column")
    }
}
