import Charts
import Datasets
import Experiment
import Reports
import XCTest

/// `CSV.number`, `CSV.field`, `CSV.line` and `CSV.parseLine`.
final class OutputCSVTests: XCTestCase {
    func testNumberFormatting() {
        let cases: [(Double?, Int, String)] = [
            (nil, 2, ""),                       // not measured
            (.nan, 2, "nan"),
            (.infinity, 2, "inf"),
            (-.infinity, 4, "-inf"),
            (0, 2, "0.00"),
            (-0.0, 2, "0.00"),                  // negative zero prints without a sign
            (-0.004, 2, "0.00"),                // rounds to zero: no "-0.00"
            (-1.5, 1, "-1.5"),
            (-3.14159, 3, "-3.142"),
            (7, 0, "7"),
            (100, 2, "100.00"),
            (0.05, 3, "0.050"),                 // trailing zeros kept: fixed width per column
            (0.000001, 6, "0.000001"),          // leading zeros of the fraction kept
            (12.345678, 4, "12.3457"),
            (123456.789, 2, "123456.79"),
            (59.999, 2, "60.00"),               // the carry reaches the integer part
            (0.999, 2, "1.00"),
            (2.5, 0, "2"),                      // exact halves round to even
            (3.5, 0, "4"),
            (0.125, 2, "0.12"),
            (0.375, 2, "0.38"),
            (1.005, 2, "1.00"),                 // 1.005 is 1.00499999999999989... in binary
            (1e20, 2, "1e+20"),                 // beyond 1e17 scaled: Swift's shortest form
        ]
        for (x, decimals, expected) in cases {
            XCTAssertEqual(CSV.number(x, decimals: decimals), expected, "\(String(describing: x)) with \(decimals) decimals")
        }
    }

    func testFieldsAreQuotedOnlyWhenNeeded() {
        XCTAssertEqual(CSV.field("plain text"), "plain text")
        XCTAssertEqual(CSV.field(""), "")
        XCTAssertEqual(CSV.field("±1.5 %"), "±1.5 %")
        XCTAssertEqual(CSV.field("a,b"), "\"a,b\"")
        XCTAssertEqual(CSV.field("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(CSV.field("two\nlines"), "\"two\nlines\"")
        XCTAssertEqual(CSV.field("cr\r"), "\"cr\r\"")
        XCTAssertEqual(CSV.line(["a", "b,c", ""]), "a,\"b,c\",\n")
        XCTAssertEqual(CSV.table(header: ["x", "y"], rows: [["1", "2"], ["3", "4"]]), "x,y\n1,2\n3,4\n")
    }

    func testParseLineInvertsLine() {
        let rows: [[String]] = [
            ["a", "b", "c"],
            ["", "a", ""],
            [""],
            ["BatchNorm(4, momentum=0.1)", "x"],
            ["\"", "\"\"", "say \"hi\", then go"],
            ["  spaces kept  ", "±", "two\nlines"],
            [",", ",,", "\","],
        ]
        for fields in rows {
            let line = CSV.line(fields)
            XCTAssertEqual(CSV.parseLine(line.dropLast()), fields, line)
        }
        XCTAssertEqual(CSV.parseLine("1,\"2,3\",4"), ["1", "2,3", "4"])
    }
}
