import XCTest
import Charts
import Datasets
import Experiment
import Reports
import SpecFormat

/// loadCSVImages on small files written by the tests: every option, then every kind of bad file.
final class DataCSVImagesTests: DataFileTestCase {
    func testHeaderAutoLabelLastWithShapeAndScale() throws {
        let path = try write("tiny.csv", text: "p0,p1,p2,p3,label\n0,10,20,30,1\n40,50,60,70,0\n")
        let dataset = try loadCSVImages(path: path, labelColumn: .last, shape: (1, 2, 2), scale: 0.5)
        XCTAssertEqual(dataset.name, "tiny")
        XCTAssertEqual([dataset.channels, dataset.height, dataset.width, dataset.count], [1, 2, 2, 2])
        XCTAssertEqual(dataset.images, [0, 5, 10, 15, 20, 25, 30, 35])
        XCTAssertEqual(dataset.labels, [1, 0])
        XCTAssertEqual(dataset.classCount, 2)
    }

    func testLabelFirstAndByIndexAndNoShape() throws {
        let path = try write("rows.csv", text: "1,0,3\n0,1,5\n")
        let first = try loadCSVImages(path: path, labelColumn: .first)
        XCTAssertEqual([first.channels, first.height, first.width], [1, 1, 2])
        XCTAssertEqual(first.labels, [1, 0])
        XCTAssertEqual(first.images, [0, 3, 1, 5])
        let middle = try loadCSVImages(path: path, labelColumn: .index(1), header: .absent)
        XCTAssertEqual(middle.labels, [0, 1])
        XCTAssertEqual(middle.images, [1, 3, 0, 5])
        XCTAssertEqual(middle.classCount, 2)
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
        let path = try write("numeric-header.csv", text: "1,1,1\n1,2,0\n")
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
        XCTAssertEqual(try loadCSVImages(path: try write("tiny.csv", text: "1e-999,-0,0\n")).images, [0, 0])
    }

    /// A bad label names its column and the label_column that chose it, and asks whether the label
    /// is in another column, naming the other end of the row when its cell would be a valid label.
    func testLabelsMustBeNonNegativeIntegers() throws {
        for (bad, column) in [("-1", 5), ("1.5", 5)] {
            let path = try write("labels.csv", text: "1,2,0\n3,4,\(bad)\n")
            let error = assertDatasetError(try loadCSVImages(path: path), path: path, line: 2, column: column, message: "")
            XCTAssertEqual(error?.message, "label '\(bad)' in column 3 (label_column last) is not a non-negative integer;"
                           + " is the label in another column? (label_column first)")
        }
        let wine = try write("wine.csv", text: "alcohol,malic_acid,ash,class\n14.23,1.71,2.43,0\n13.2,1.78,2.14,1\n")
        let error = assertDatasetError(try loadCSVImages(path: wine, labelColumn: .first), path: wine, line: 2, column: 1,
                                       message: "")
        XCTAssertEqual(error?.description, "\(wine):2:1: error: label '14.23' in column 1 (label_column first) is not a"
                       + " non-negative integer; is the label in another column? (label_column last)")
        let nowhere = try write("nowhere.csv", text: "0.5,2,-3\n")
        let other = assertDatasetError(try loadCSVImages(path: nowhere, labelColumn: .index(1)), path: nowhere, line: 1,
                                       column: 5, message: "")
        XCTAssertEqual(other?.message, "label '2' in column 2 (label_column 1) leaves classes 0, 1 without a sample:"
                       + " labels found: 2; classes must be numbered 0..K-1")
        let negative = assertDatasetError(try loadCSVImages(path: nowhere, labelColumn: .last), path: nowhere, line: 1,
                                          column: 7, message: "")
        XCTAssertEqual(negative?.message, "label '-3' in column 3 (label_column last) is not a non-negative integer;"
                       + " is the label in another column? (label_column first, last or a 0-based column index)")
        XCTAssertEqual(try loadCSVImages(path: try write("ok.csv", text: "1,2,1.0\n3,4,0\n")).labels, [1, 0])
    }

    /// A label is a class index and the model gets one output per class: a stray huge label
    /// (which would allocate a layer of that many outputs) is refused where it stands.
    func testLabelsMustBeBelowTheClassLimit() throws {
        for bad in ["4e10", "10000"] {
            let path = try write("labels.csv", text: "1,2,0\n3,4,\(bad)\n")
            let error = assertDatasetError(try loadCSVImages(path: path), path: path, line: 2, column: 5, message: "")
            XCTAssertEqual(error?.message, "label '\(bad)' in column 3 (label_column last) is out of range: at most"
                           + " 10000 classes (labels 0...9999); is the label in another column? (label_column first)")
        }
        let everyClass = (0..<10_000).map { "1,2,\($0)\n" }.joined()
        XCTAssertEqual(try loadCSVImages(path: try write("ok.csv", text: everyClass)).classCount, 10_000)
    }

    /// Classes are numbered 0..K-1 and each has a sample: labels that do not start at 0, or that
    /// skip a class (a stray label, a numeric header read as data), are refused at the first
    /// label above the first missing class, with the labels found.
    func testClassesMustBeNumberedFromZeroWithoutGaps() throws {
        let fromOne = try write("from-one.csv", text: "5,1\n6,2\n7,3\n8,1\n")
        let noZero = assertDatasetError(try loadCSVImages(path: fromOne), path: fromOne, line: 1, column: 3, message: "")
        XCTAssertEqual(noZero?.description, "\(fromOne):1:3: error: label '1' in column 2 (label_column last) leaves"
                       + " class 0 without a sample: labels found: 1, 2, 3; classes must be numbered 0..K-1")
        let rows = (0..<9).map { "\($0),\($0 % 3)" } + ["9,7"] + (10..<15).map { "\($0),\($0 % 3)" }
        let stray = try write("stray.csv", text: rows.joined(separator: "\n") + "\n")
        let seven = assertDatasetError(try loadCSVImages(path: stray), path: stray, line: 10, column: 3, message: "")
        XCTAssertEqual(seven?.message, "label '7' in column 2 (label_column last) leaves classes 3, 4, 5, 6 without a"
                       + " sample: labels found: 0, 1, 2, 7; classes must be numbered 0..K-1")
        // A numeric header (column numbers 1..65) read as data: its last cell, 65, is a 66th class.
        let header = (1...65).map(String.init).joined(separator: ",")
        let body = (0..<30).map { i in (0..<64).map { _ in "0" }.joined(separator: ",") + ",\(i % 3)" }
        let numeric = try write("numeric.csv", text: ([header] + body).joined(separator: "\n") + "\n")
        let column = header.utf8.count - 1
        let read = assertDatasetError(try loadCSVImages(path: numeric), path: numeric, line: 1, column: column, message: "")
        XCTAssertEqual(read?.message, "label '65' in column 65 (label_column last) leaves classes 3...64 without a"
                       + " sample: labels found: 0, 1, 2, 65; classes must be numbered 0..K-1; is line 1 a header?"
                       + " (header=yes)")
        XCTAssertEqual(try loadCSVImages(path: numeric, header: .present).classCount, 3)
    }

    /// A class far rarer than the others loads, with a warning at its first sample.
    func testARareClassIsAWarningAtItsFirstSample() throws {
        let rows = (0..<50).map { "\($0),\($0 % 2)" } + ["50,2"]
        let path = try write("rare.csv", text: rows.joined(separator: "\n") + "\n")
        var warnings: [DatasetWarning] = []
        let dataset = try loadCSVImages(path: path, warn: { warnings.append($0) })
        XCTAssertEqual(dataset.classCount, 3)
        XCTAssertEqual(warnings.map(\.description), ["\(path):51:4: warning: class 2 has 1 sample (this line) while the"
                       + " median class has 25; the stratified split may leave it out of the training or the test split"])
        var none: [DatasetWarning] = []
        _ = try loadCSVImages(path: try write("even.csv", text: "1,0\n2,1\n3,1\n"), warn: { none.append($0) })
        XCTAssertEqual(none, [], "1 sample against 2 is not rare")
        var twenty: [DatasetWarning] = []
        let exactly = (0..<40).map { "\($0),\($0 % 2)" } + ["40,2"]
        _ = try loadCSVImages(path: try write("twenty.csv", text: exactly.joined(separator: "\n")), warn: { twenty.append($0) })
        XCTAssertEqual(twenty, [], "1 sample against a median of 20 is 1/20, not fewer")
    }

    /// A file separated by ';' or tabs is refused at its first line, not read as a header and a bad line 2.
    func testSemicolonAndTabSeparatedFilesAreRefusedAtLineOne() throws {
        let semicolons = try write("semicolons.csv", text: "\nred;green;label\n1;2;0\n")
        let error = assertDatasetError(try loadCSVImages(path: semicolons), path: semicolons, line: 2, column: 4, message: "")
        XCTAssertEqual(error?.description, "\(semicolons):2:4: error: line 2 has no ',' but has ';': bnlab reads"
                       + " comma-separated values")
        let tabs = try write("tabs.csv", text: "1\t2\t0\n3\t4\t1\n")
        assertDatasetError(try loadCSVImages(path: tabs), path: tabs, line: 1, column: 2,
                           message: "line 1 has no ',' but has a tab: bnlab reads comma-separated values")
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
