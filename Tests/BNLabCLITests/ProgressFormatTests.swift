@testable import BNLabCLI
import XCTest

final class ProgressFormatTests: XCTestCase {
    func testDuration() {
        let cases: [(Double, String)] = [
            (0, "0.0s"), (0.4, "0.4s"), (0.04, "0.0s"), (2.34, "2.3s"), (9.94, "9.9s"),
            (9.96, "10s"), (12.4, "12s"), (59.4, "59s"),
            (59.6, "1m00s"), (65, "1m05s"), (200, "3m20s"), (3599.4, "59m59s"),
            (3599.6, "1h00m"), (3740, "1h02m"), (90_000, "25h00m"),
            (-3, "0.0s"), (.nan, "--"), (.infinity, "--"),
        ]
        for (seconds, text) in cases {
            XCTAssertEqual(ProgressFormat.duration(seconds), text, "\(seconds) s")
        }
    }

    func testEta() {
        XCTAssertNil(ProgressFormat.remainingSeconds(elapsed: 30, finished: 0, remaining: 10))
        XCTAssertEqual(ProgressFormat.eta(elapsed: 30, finished: 0, remaining: 10), "--")
        // 60 s for 3 cells = 20 s a cell; 10 to go. Exact in binary floating point.
        XCTAssertEqual(ProgressFormat.remainingSeconds(elapsed: 60, finished: 3, remaining: 10), 200)
        XCTAssertEqual(ProgressFormat.eta(elapsed: 60, finished: 3, remaining: 10), "3m20s")
        XCTAssertEqual(ProgressFormat.eta(elapsed: 60, finished: 3, remaining: 0), "0.0s")
    }

    private let settings = "batch_size=4 momentum=0.1 dropout=0 seed=1"
    private let full = "[12/144] batch_size=4 momentum=0.1 dropout=0 seed=1 epoch 3/10  elapsed 1m05s  ETA 3m20s"

    private func line(cell: String?, epoch: (Int, Int)?, maxLength: Int) -> String {
        ProgressFormat.liveLine(done: 12, total: 144, cell: cell, epoch: epoch.map { ($0.0, $0.1) },
                                elapsed: 65, eta: "3m20s", maxLength: maxLength)
    }

    func testLiveLine() {
        XCTAssertEqual(line(cell: settings, epoch: (3, 10), maxLength: 100), full)
        XCTAssertEqual(line(cell: settings, epoch: (3, 10), maxLength: full.count), full, "exactly fits")
        XCTAssertEqual(line(cell: settings, epoch: nil, maxLength: 100),
                       "[12/144] batch_size=4 momentum=0.1 dropout=0 seed=1 elapsed 1m05s  ETA 3m20s")
        XCTAssertEqual(line(cell: nil, epoch: nil, maxLength: 100), "[12/144] elapsed 1m05s  ETA 3m20s")
        XCTAssertEqual(ProgressFormat.liveLine(done: 0, total: 8, cell: nil, epoch: nil, elapsed: 0, eta: "--",
                                               maxLength: 100), "[0/8] elapsed 0.0s  ETA --")
    }

    func testLiveLineCutsTheSettingsFirst() {
        let cut = line(cell: settings, epoch: (3, 10), maxLength: full.count - 10)
        XCTAssertEqual(cut, "[12/144] batch_size=4 momentum=0.1 dro... epoch 3/10  elapsed 1m05s  ETA 3m20s")
        XCTAssertEqual(cut.count, full.count - 10)
    }

    func testLiveLineCutsEverythingWhenTheTimesDoNotFit() {
        // "[12/144] " + "b..." + " " + tail needs 9 + 4 + 1 + 36 = 50 columns; below that the settings go.
        XCTAssertEqual(line(cell: settings, epoch: (3, 10), maxLength: 50),
                       "[12/144] b... epoch 3/10  elapsed 1m05s  ETA 3m20s")
        XCTAssertEqual(line(cell: settings, epoch: (3, 10), maxLength: 49),
                       "[12/144] epoch 3/10  elapsed 1m05s  ETA 3m20s")
        XCTAssertEqual(line(cell: settings, epoch: (3, 10), maxLength: 20), "[12/144] epoch 3/10 ")
        XCTAssertEqual(line(cell: settings, epoch: (3, 10), maxLength: 0), "")
        XCTAssertEqual(line(cell: settings, epoch: (3, 10), maxLength: -1), "")
    }

    func testFinishedCellLine() {
        XCTAssertEqual(
            ProgressFormat.finishedCellLine(done: 12, total: 144, cell: settings, outcome: "ok", seconds: 2.3,
                                            summary: "eval 41.2%, train-mode 97.9%"),
            "[12/144] batch_size=4 momentum=0.1 dropout=0 seed=1: ok in 2.3s (eval 41.2%, train-mode 97.9%)")
        XCTAssertEqual(
            ProgressFormat.finishedCellLine(done: 1, total: 2, cell: "seed=1", outcome: "failed", seconds: 65,
                                            summary: ""),
            "[1/2] seed=1: failed in 1m05s")
    }
}
