@testable import SpecFormat
import XCTest

/// NearestName, for spec keys and values and for commands and options alike.
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
        XCTAssertEqual(NearestName.nearest(to: "job", in: names), "jobs")
        XCTAssertEqual(NearestName.nearest(to: "sh", in: names), "shard", "unique prefix")
        XCTAssertEqual(NearestName.nearest(to: "qui", in: names), "quick",
                       "ambiguous prefix falls back to distance; the tie goes to the earlier name")
        XCTAssertEqual(NearestName.nearest(to: "ot", in: names), "out")
        XCTAssertNil(NearestName.nearest(to: "threads", in: names))
        XCTAssertNil(NearestName.nearest(to: "x", in: []))
    }

    /// The one rule's edges, shared by spec keys and command-line options.
    func testOneRule() {
        XCTAssertNil(NearestName.nearest(to: "x", in: ["lr"]), "as many edits as the candidate has letters")
        XCTAssertEqual(NearestName.nearest(to: "l", in: ["lr"]), "lr")
        XCTAssertEqual(NearestName.nearest(to: "hlep", in: ["help"]), "help", "2 edits for 4 letters")
        XCTAssertNil(NearestName.nearest(to: "hxyz", in: ["help"]))
        XCTAssertEqual(NearestName.nearest(to: "epo", in: ["eps", "epochs"]), "epochs",
                       "a unique prefix wins over a nearer name")
        XCTAssertEqual(NearestName.nearest(to: "batchsize", in: ["batch_size", "eval_batch_size"]), "batch_size")
    }
}
