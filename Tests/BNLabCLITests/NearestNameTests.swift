@testable import BNLabCLI
import XCTest

final class NearestNameTests: XCTestCase {
    func testEditDistance() {
        XCTAssertEqual(NearestName.editDistance("kitten", "sitting"), 3)
        XCTAssertEqual(NearestName.editDistance("sitting", "kitten"), 3)
        XCTAssertEqual(NearestName.editDistance("", "abc"), 3)
        XCTAssertEqual(NearestName.editDistance("abc", ""), 3)
        XCTAssertEqual(NearestName.editDistance("jobs", "jobs"), 0)
        XCTAssertEqual(NearestName.editDistance("job", "jobs"), 1)
        XCTAssertEqual(NearestName.editDistance("qiuet", "quiet"), 2, "a transposition is two edits")
    }

    func testSuggestion() {
        let names = ["jobs", "shard", "quick", "out", "quiet", "fresh", "help"]
        XCTAssertEqual(NearestName.suggestion(for: "job", among: names), "jobs")
        XCTAssertEqual(NearestName.suggestion(for: "sh", among: names), "shard", "unique prefix")
        XCTAssertEqual(NearestName.suggestion(for: "qui", among: names), "quick",
                       "ambiguous prefix falls back to distance; the tie goes to the earlier name")
        XCTAssertEqual(NearestName.suggestion(for: "ot", among: names), "out")
        XCTAssertNil(NearestName.suggestion(for: "threads", among: names))
        XCTAssertNil(NearestName.suggestion(for: "x", among: []))
    }
}
