import XCTest
@testable import Charts
@testable import Datasets
@testable import Reports

final class MarkdownTableTests: XCTestCase {
    func testColumnsArePaddedAlignedAndEscaped() {
        let text = MarkdownTable.render(
            header: ["mode", "batch size", "accuracy (%)"],
            rows: [["train | eval", "1", "34.2"], ["recalibrated\nonce", "128", "90"]],
            alignments: [.left, .center, .right])
        XCTAssertEqual(text, """
            | mode              | batch size | accuracy (%) |
            |:------------------|:----------:|-------------:|
            | train \\| eval     |     1      |         34.2 |
            | recalibrated once |    128     |           90 |

            """)
    }

    func testDefaultAlignmentIsLeftAndNarrowColumnsGetThreeDashes() {
        XCTAssertEqual(MarkdownTable.render(header: ["a"], rows: [["x"]]), "| a   |\n|:----|\n| x   |\n")
    }
}
