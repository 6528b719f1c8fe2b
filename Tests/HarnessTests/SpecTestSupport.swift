import XCTest
@testable import Charts
@testable import Datasets
@testable import Experiment
@testable import Reports
@testable import SpecFormat

/// Parses `text` as the spec file `t.spec`.
func parseSpec(_ text: String) throws -> Spec {
    try Spec.parse(text: text, path: "t.spec")
}

/// Asserts that `text` is refused with exactly `expected` (`t.spec:L:C: error: ...`).
func assertSpecError(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
    assertSpecError(bytes: Array(text.utf8), expected, file: file, line: line)
}

/// Asserts that `bytes` are refused with exactly `expected`.
func assertSpecError(bytes: [UInt8], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
    do {
        let spec = try Spec.parse(bytes: bytes, path: "t.spec")
        XCTFail("accepted, expected \(expected); cells: \(spec.cells().count)", file: file, line: line)
    } catch let error as SpecError {
        XCTAssertEqual(error.description, expected, file: file, line: line)
    } catch {
        XCTFail("unexpected error type \(error)", file: file, line: line)
    }
}
