import Foundation
import XCTest

/// The tiny spec that the run-level tests share: 12 cells (3 batch sizes x 2 momenta x
/// 2 seeds) of a 4-channel CNN on 100 + 40 shapes images, 2 epochs by default: about
/// 0.1-0.2 s a cell in a debug build, 10-30 ms in the release build that `make test` runs.
enum TinySweep {
    static let name = "tiny"
    static let cellCount = 12
    /// Epochs for the tests that signal a running sweep (kill, SIGINT): cells about 6x longer
    /// than the default's, so that a signal sent a few tens of milliseconds after a journal
    /// record appears still lands inside the grid on a fast, idle machine with the release build.
    static let interruptibleEpochs = 12

    /// The spec's text with `epochs` epochs.
    static func text(epochs: Int = 2) -> String {
        """
        # tiny: a 12-cell grid for the resume, shard and determinism tests
        dataset shapes size=12 noise=0.25
        train_split 100
        test_split 40
        model cnn channels=4
        optimizer sgd lr=0.01 momentum=0.9
        epochs \(epochs)
        eval_batch_size 20
        recalibrate_batch_size 20
        sweep batch_size 1 2 4
        sweep momentum 0.1 0.01
        seeds 0 1

        """
    }

    /// The table files of a run, by name.
    static let tableFiles = ["\(name).csv", "\(name)-summary.csv", "\(name)-bnstats.csv"]

    /// Writes the spec into `directory` as `tiny.spec`; returns the file name.
    @discardableResult
    static func write(in directory: URL, epochs: Int = 2) throws -> String {
        try text(epochs: epochs).write(to: directory.appendingPathComponent("\(name).spec"), atomically: true, encoding: .utf8)
        return "\(name).spec"
    }

    /// The journal of the unsharded run in `out` (relative to `directory`).
    static func journal(_ directory: URL, out: String) -> String {
        directory.appendingPathComponent("\(out)/.journal/\(name).journal").path
    }

    /// The three tables in `outputDirectory`, with `tiny.csv`'s last column, `wall_seconds`
    /// (the one value that differs between runs), removed. Missing files read as nil.
    static func tables(in outputDirectory: URL) -> [String: String] {
        var tables: [String: String] = [:]
        for file in tableFiles {
            guard let text = try? String(contentsOf: outputDirectory.appendingPathComponent(file), encoding: .utf8) else {
                continue
            }
            tables[file] = file == "\(name).csv" ? withoutWallSeconds(text) : text
        }
        return tables
    }

    /// `text` with the last field of each line removed; checks that the header's last field is `wall_seconds`
    /// (a number in every row, never quoted, so it starts after the line's last comma).
    static func withoutWallSeconds(_ text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first?.hasSuffix(",wall_seconds") == true else { return "no wall_seconds column: " + text }
        return lines.map { line in line.lastIndex(of: ",").map { String(line[..<$0]) } ?? String(line) }
            .joined(separator: "\n")
    }

    private static let lock = NSLock()
    // nonisolated(unsafe): read and written under `lock` only.
    nonisolated(unsafe) private static var cachedReferences: [Int: [String: String]] = [:]

    /// The tables of an uninterrupted `--jobs 1` run with `epochs` epochs, computed once per test process.
    static func reference(epochs: Int = 2, file: StaticString = #filePath, line: UInt = #line) throws -> [String: String] {
        lock.lock()
        defer { lock.unlock() }
        if let cached = cachedReferences[epochs] { return cached }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bnlab-reference-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = try write(in: directory, epochs: epochs)
        let outcome = try BNLabChild.run(["run", spec, "--out", "out", "--jobs", "1", "--quiet"], in: directory,
                                         file: file, line: line)
        XCTAssertEqual(outcome.status, 0, "reference run: \(outcome.standardError)", file: file, line: line)
        let tables = self.tables(in: directory.appendingPathComponent("out"))
        XCTAssertEqual(tables.count, 3, "reference run wrote \(tables.keys.sorted())", file: file, line: line)
        cachedReferences[epochs] = tables
        return tables
    }
}

/// Fails unless `actual` holds the same three tables as `expected`, byte for byte; names the
/// first line that differs.
func assertSameTables(_ actual: [String: String], _ expected: [String: String], _ context: String,
                      file: StaticString = #filePath, line: UInt = #line) {
    for name in TinySweep.tableFiles {
        guard let a = actual[name] else { XCTFail("\(context): \(name) missing", file: file, line: line); continue }
        guard let e = expected[name] else { XCTFail("reference \(name) missing", file: file, line: line); continue }
        if a == e { continue }
        let aLines = a.split(separator: "\n", omittingEmptySubsequences: false)
        let eLines = e.split(separator: "\n", omittingEmptySubsequences: false)
        let index = zip(aLines, eLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? min(aLines.count, eLines.count)
        XCTFail("\(context): \(name) differs at line \(index + 1):\n  got      \(index < aLines.count ? aLines[index] : "<end>")"
                + "\n  expected \(index < eLines.count ? eLines[index] : "<end>")", file: file, line: line)
    }
}
