import TensorCore
import XCTest

/// The project's one string hash, against the reference values of its specification.
final class FNV1aTests: XCTestCase {
    func testKnownVectors() {
        // Reference values from the FNV specification (draft-eastlake-fnv, test vectors).
        XCTAssertEqual(FNV1a.hex(FNV1a.hash64("")), "cbf29ce484222325")
        XCTAssertEqual(FNV1a.hex(FNV1a.hash64("a")), "af63dc4c8601ec8c")
        XCTAssertEqual(FNV1a.hex(FNV1a.hash64("foobar")), "85944171f73967e8")
    }

    /// A stream named by a string is the stream numbered by the string's hash.
    func testNamesRandomStreams() {
        let g = RandomGenerator(seed: 42)
        XCTAssertEqual(g.derived("init"), g.derived(FNV1a.hash64("init")))
    }
}
