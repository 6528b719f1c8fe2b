import XCTest

final class NNTestsPlaceholder: XCTestCase {
    func testPlaceholderBuilds() { XCTAssertEqual(1 + 1, 2) }
}
