import Foundation
import SpecFormat
import XCTest

/// The full example spec in README.md's "The spec format" section is a valid spec (it once fixed and swept
/// `momentum` at once, which the parser refuses).
final class ReadmeExampleSpecTests: XCTestCase {
    func testTheReadmeExampleParsesToTheGridItDescribes() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        guard let start = readme.range(of: "```\n# my-experiment:") else { return XCTFail("no example in README.md") }
        let rest = readme[start.upperBound...]
        guard let end = rest.range(of: "```") else { return XCTFail("the example is not closed") }
        let text = "# my-experiment:" + rest[..<end.lowerBound]
        let spec = try Spec.parse(text: String(text), path: "Experiments/my-experiment.spec")
        // 8 batch sizes x 3 momenta x 5 seeds, then the convergence check's 2 batch sizes x 5 seeds.
        XCTAssertEqual(spec.cells().count, 8 * 3 * 5 + 2 * 5)
        XCTAssertTrue(spec.hasConvergenceCheck)
    }
}
