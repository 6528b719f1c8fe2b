@testable import BNLabCLI
import Foundation
import XCTest

/// A clock the test sets, and a sink that collects what the reporter writes.
private final class Recorder: @unchecked Sendable {  // Sendable: `lock` guards its state
    private let lock = NSLock()
    private var now = 0.0
    private var written: [String] = []

    func set(_ seconds: Double) { lock.withLock { now = seconds } }
    func time() -> Double { lock.withLock { now } }
    func write(_ text: String) { lock.withLock { written.append(text) } }
    /// Everything written since the last call.
    func take() -> [String] { lock.withLock { defer { written = [] }; return written } }

    func reporter(total: Int, alreadyDone: Int = 0, style: ProgressReporter.Style, columns: Int = 100)
        -> ProgressReporter
    {
        ProgressReporter(totalCells: total, alreadyDone: alreadyDone, style: style, columns: { columns },
                         clock: { self.time() }, write: { self.write($0) })
    }
}

final class ProgressReporterTests: XCTestCase {
    private let clear = "\u{1B}[K"

    func testLinesStyleWritesOneLinePerFinishedCell() {
        let recorder = Recorder()
        let reporter = recorder.reporter(total: 144, alreadyDone: 11, style: .lines)
        reporter.cellStarted("batch_size=4 seed=1")
        reporter.epochFinished("batch_size=4 seed=1", epoch: 1, of: 10)
        XCTAssertEqual(recorder.take(), [], "only finished cells are reported off a terminal")
        reporter.cellFinished("batch_size=4 seed=1", outcome: "ok", seconds: 2.3, summary: "eval 41.2%")
        reporter.finish()
        XCTAssertEqual(recorder.take(), ["[12/144] batch_size=4 seed=1: ok in 2.3s (eval 41.2%)\n"])
    }

    func testSilentStyleWritesNothing() {
        let recorder = Recorder()
        let reporter = recorder.reporter(total: 2, style: .silent)
        reporter.cellStarted("a=1")
        reporter.epochFinished("a=1", epoch: 1, of: 1)
        reporter.cellFinished("a=1", outcome: "ok", seconds: 1, summary: "")
        reporter.finish()
        XCTAssertEqual(recorder.take(), [])
    }

    func testLiveStyleRedrawsOneLine() {
        let recorder = Recorder()
        recorder.set(100)
        let reporter = recorder.reporter(total: 4, style: .live)
        reporter.cellStarted("a=1")
        XCTAssertEqual(recorder.take(), ["\r[0/4] a=1 elapsed 0.0s  ETA --" + clear])

        recorder.set(100.2)
        reporter.epochFinished("a=1", epoch: 1, of: 10)
        XCTAssertEqual(recorder.take(), ["\r[0/4] a=1 epoch 1/10  elapsed 0.2s  ETA --" + clear])

        recorder.set(100.25)
        reporter.epochFinished("a=1", epoch: 2, of: 10)
        XCTAssertEqual(recorder.take(), [], "within minimumRedrawInterval of the last redraw")

        recorder.set(110)
        reporter.cellFinished("a=1", outcome: "ok", seconds: 10, summary: "ignored on a terminal")
        // 10 s for one cell, three to go: ETA 30 s.
        XCTAssertEqual(recorder.take(), ["\r[1/4] a=1 epoch 2/10  elapsed 10s  ETA 30s" + clear])

        reporter.finish()
        XCTAssertEqual(recorder.take(), ["\r[1/4] a=1 epoch 2/10  elapsed 10s  ETA 30s" + clear, "\n"])
        reporter.cellFinished("a=2", outcome: "ok", seconds: 1, summary: "")
        reporter.finish()
        XCTAssertEqual(recorder.take(), [], "nothing after finish")
    }

    func testLiveEtaCountsOnlyCellsFinishedHere() {
        let recorder = Recorder()
        let reporter = recorder.reporter(total: 10, alreadyDone: 6, style: .live)
        recorder.set(20)
        reporter.cellFinished("a=1", outcome: "ok", seconds: 20, summary: "")
        // One cell in 20 s here; 3 of 10 left: 60 s, not 20/7*3.
        XCTAssertEqual(recorder.take(), ["\r[7/10] elapsed 20s  ETA 1m00s" + clear])
    }

    func testLiveLineLeavesTheLastColumnFree() {
        let recorder = Recorder()
        let reporter = recorder.reporter(total: 144, style: .live, columns: 50)
        reporter.epochFinished("batch_size=4 momentum=0.1 dropout=0 seed=1", epoch: 3, of: 10)
        let drawn = recorder.take()
        XCTAssertEqual(drawn, ["\r[0/144] batch... epoch 3/10  elapsed 0.0s  ETA --" + clear])
        XCTAssertEqual(drawn.first.map { $0.count - 1 - clear.count }, 49, "50 columns less one")
    }

    func testPrintLineKeepsTheLiveLineIntact() {
        let recorder = Recorder()
        let reporter = recorder.reporter(total: 2, style: .live)
        reporter.printLine("before any drawing")
        reporter.cellStarted("a=1")
        _ = recorder.take()
        reporter.printLine("warning: slow")
        XCTAssertEqual(recorder.take(), ["\r\(clear)warning: slow\n", "\r[0/2] a=1 elapsed 0.0s  ETA --" + clear])

        let quiet = recorder.reporter(total: 2, style: .silent)
        quiet.printLine("still shown")
        XCTAssertEqual(recorder.take(), ["still shown\n"])
    }

    /// Cells finishing on many threads at once: every count from 1 to n is written exactly once,
    /// which holds only if counting and writing happen under one lock.
    func testConcurrentCellsAreCountedOnce() {
        let recorder = Recorder()
        let total = 500
        let reporter = recorder.reporter(total: total, style: .lines)
        DispatchQueue.concurrentPerform(iterations: total) { index in
            reporter.cellFinished("seed=\(index)", outcome: "ok", seconds: 1, summary: "")
        }
        let lines = recorder.take()
        XCTAssertEqual(lines.count, total)
        let counts = lines.map { line in Int(line.dropFirst().prefix { $0 != "/" })! }
        XCTAssertEqual(counts, Array(1...total), "written in counting order")
    }

    func testStandardErrorStyle() {
        XCTAssertEqual(ProgressReporter.standardErrorStyle(quiet: true), .silent)
        XCTAssertEqual(ProgressReporter.standardErrorStyle(quiet: false), Terminal.isTerminal(2) ? .live : .lines)
    }

    func testTerminalWidthFallsBackOffATerminal() {
        let pipe = Pipe()
        let descriptor = pipe.fileHandleForWriting.fileDescriptor
        XCTAssertFalse(Terminal.isTerminal(descriptor))
        XCTAssertEqual(Terminal.columns(of: descriptor), Terminal.defaultColumns)
        XCTAssertEqual(Terminal.defaultColumns, 100)
    }
}
