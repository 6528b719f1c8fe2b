@testable import BNLabCLI
import Foundation
import XCTest

/// Bad input through the command line: each case ends with exactly one line on stderr that
/// names the file (and line:column for a spec), exit status 2, and no output at all.
final class BadInputTests: XCTestCase {
    /// One bad input: the spec `bad.spec`, the files beside it, and the whole expected stderr line.
    struct Case {
        var name: String
        var spec: [UInt8]
        var files: [String: [UInt8]] = [:]
        var error: String
    }

    /// A well-formed CSV of `rows` images of 16 pixels, labels 0, 1, 2 in turn (or `label(i)`), with
    /// `separator` between the cells.
    static func csv(rows: Int, separator: String = ",", label: (Int) -> Int = { $0 % 3 }) -> [UInt8] {
        Array(csvLines(rows: rows, separator: separator, label: label).map { $0 + "\n" }.joined().utf8)
    }

    static func csvLines(rows: Int, separator: String = ",", label: (Int) -> Int = { $0 % 3 }) -> [String] {
        (0..<rows).map { i in ((0..<16).map { j in String((i * 7 + j * 3) % 10) } + [String(label(i))]).joined(separator: separator) }
    }

    /// The spec of a CSV dataset case (`labelColumn` nil: the default, first).
    static func csvSpec(_ path: String, trainSplit: Int = 20, testSplit: Int = 10, batchSize: Int = 4,
                        shape: String? = nil, labelColumn: String? = "last") -> [UInt8] {
        Array("""
            dataset csv path=\(path)\(labelColumn.map { " label_column=" + $0 } ?? "")\(shape.map { " shape=" + $0 } ?? "")
            model mlp widths=4
            train_split \(trainSplit)
            test_split \(testSplit)
            batch_size \(batchSize)

            """.utf8)
    }

    static func bigEndian(_ values: [UInt32]) -> [UInt8] {
        values.flatMap { v in [24, 16, 8, 0].map { UInt8((v >> UInt32($0)) & 0xFF) } }
    }

    static let sweepable = "jitter_apply, split_overlap, test_normalize, test_storage, order, norm, groups, momentum,"
        + " momentum_convention, track_running_stats, ghost_batch_size, shared_bn, devices, device_bn, frozen_bn_epochs,"
        + " dropout, dropout_convention, dropout_in_eval, drop_path, epochs, steps, min_steps, budget_factor, batch_size, validation,"
        + " validation_batch_size, weight_average, ema_decay, weight_average_buffers, finetune_epochs, finetune_shift,"
        + " freeze, lr, eval_batch_size,"
        + " recalibrate_samples, recalibrate_batch_size, recalibrate_estimator, recalibrate_data, adapt_prior, mc_samples,"
        + " forgot_eval_batches, forgot_eval_shift, variant"

    static let cases: [Case] = [
        // Spec errors (the parser's; here through the command line).
        Case(name: "unknown key", spec: Array("model mlp widths=4\nepoch 3\n".utf8),
             error: "bad.spec:2:1: error: unknown key 'epoch'; did you mean 'epochs'?"),
        Case(name: "duplicate key", spec: Array("epochs 2\nmodel mlp widths=4\nepochs 3\n".utf8),
             error: "bad.spec:3:1: error: duplicate key 'epochs' (first set on line 1)"),
        Case(name: "bad number", spec: Array("epochs 3x\n".utf8),
             error: "bad.spec:1:8: error: epochs must be an integer >= 1, got '3x'"),
        Case(name: "out of range", spec: Array("epochs 0\n".utf8), error: "bad.spec:1:8: error: epochs must be >= 1, got '0'"),
        Case(name: "empty sweep", spec: Array("sweep batch_size\n".utf8),
             error: "bad.spec:1:7: error: the sweep of 'batch_size' has no values"),
        Case(name: "non-sweepable sweep", spec: Array("sweep dataset shapes\n".utf8),
             error: "bad.spec:1:7: error: 'dataset' cannot be swept; the sweepable keys are \(sweepable)"),
        Case(name: "non-UTF-8", spec: Array("epochs 3\n# caf".utf8) + [0xFF, 0xFE, 0x0A],
             error: "bad.spec:2:6: error: invalid UTF-8 byte 0xFF (spec files are UTF-8 text)"),
        Case(name: "very long line", spec: Array(("epochs 3\n# " + String(repeating: "x", count: 20_000) + "\n").utf8),
             error: "bad.spec:2:4097: error: line is 20002 bytes long; the limit is 4096"),
        Case(name: "empty file", spec: [], error: "bad.spec:1:1: error: empty file: a spec needs at least one setting"),
        Case(name: "batch larger than the training split", spec: csvSpec("small.csv", trainSplit: 10, batchSize: 16),
             files: ["small.csv": csv(rows: 30)],
             error: "bad.spec:5:12: error: batch_size 16 exceeds train_split 10: with drop_last on, an epoch would have"
                + " no batch and the model would not train; lower batch_size, raise train_split or set drop_last off"),
        // Dataset errors.
        Case(name: "missing file", spec: csvSpec("nowhere.csv"), error: "nowhere.csv: error: no such file"),
        Case(name: "IDX header disagrees with the size",
             spec: Array("dataset idx images=img.idx labels=lab.idx\nmodel mlp widths=4\ntrain_split 2\ntest_split 2\nbatch_size 2\n".utf8),
             files: ["img.idx": bigEndian([0x803, 5, 4, 4]) + [UInt8](repeating: 0, count: 4 * 16),
                     "lab.idx": bigEndian([0x801, 5]) + [0, 1, 2, 0, 1]],
             error: "img.idx: error: header dimensions 5x4x4 need 16 + 80 bytes but the file has 80"),
        Case(name: "truncated CIFAR batch",
             spec: Array("dataset cifar10 path=cifar.bin\nmodel cnn channels=4\ntrain_split 1\ntest_split 1\nbatch_size 1\n".utf8),
             files: ["cifar.bin": [UInt8](repeating: 1, count: 3073 * 2 + 100)],
             error: "cifar.bin: error: file has 6246 bytes, not a multiple of the 3073-byte record (1 label + 3072 pixels):"
                + " the last record is truncated"),
        Case(name: "ragged CSV rows", spec: csvSpec("ragged.csv"), files: ["ragged.csv": Array("1,2,3,0\n4,5,6,1\n7,8,1\n".utf8)],
             error: "ragged.csv:3: error: row has 3 columns, expected 4 (as in line 1)"),
        Case(name: "non-numeric cell", spec: csvSpec("nonnum.csv"), files: ["nonnum.csv": Array("1,2,3,0\n4,x,6,1\n".utf8)],
             error: "nonnum.csv:2:3: error: cell 'x' (column 2) is not a finite number"),
        Case(name: "negative label", spec: csvSpec("neg.csv"), files: ["neg.csv": Array("1,2,3,0\n4,5,6,-1\n".utf8)],
             error: "neg.csv:2:7: error: label '-1' in column 4 (label_column last) is not a non-negative integer;"
                + " is the label in another column? (label_column first)"),
        Case(name: "label out of range", spec: csvSpec("big.csv"), files: ["big.csv": Array("1,2,3,0\n4,5,6,1000000000\n".utf8)],
             error: "big.csv:2:7: error: label '1000000000' in column 4 (label_column last) is out of range: at most"
                + " 10000 classes (labels 0...9999); is the label in another column? (label_column first)"),
        Case(name: "label in another column than the default first", spec: csvSpec("wine.csv", labelColumn: nil),
             files: ["wine.csv": Array("alcohol,malic_acid,ash,class\n14.23,1.71,2.43,0\n13.2,1.78,2.14,1\n".utf8)],
             error: "wine.csv:2:1: error: label '14.23' in column 1 (label_column first) is not a non-negative integer;"
                + " is the label in another column? (label_column last)"),
        Case(name: "labels from 1", spec: csvSpec("one.csv"), files: ["one.csv": csv(rows: 30, label: { $0 % 3 + 1 })],
             error: "one.csv:1:33: error: label '1' in column 17 (label_column last) leaves class 0 without a sample:"
                + " labels found: 1, 2, 3; classes must be numbered 0..K-1"),
        Case(name: "a stray label", spec: csvSpec("stray.csv"), files: ["stray.csv": csv(rows: 30, label: { $0 == 12 ? 7 : $0 % 3 })],
             error: "stray.csv:13:33: error: label '7' in column 17 (label_column last) leaves classes 3, 4, 5, 6 without"
                + " a sample: labels found: 0, 1, 2, 7; classes must be numbered 0..K-1"),
        Case(name: "numeric header read as data", spec: csvSpec("header.csv"),
             files: ["header.csv": Array(((1...17).map(String.init).joined(separator: ",") + "\n").utf8) + csv(rows: 30)],
             error: "header.csv:1:40: error: label '17' in column 17 (label_column last) leaves classes 3...16 without a"
                + " sample: labels found: 0, 1, 2, 17; classes must be numbered 0..K-1; is line 1 a header? (header=yes)"),
        Case(name: "semicolon-separated", spec: csvSpec("semi.csv"), files: ["semi.csv": csv(rows: 30, separator: ";")],
             error: "semi.csv:1:2: error: line 1 has no ',' but has ';': bnlab reads comma-separated values"),
        Case(name: "tab-separated", spec: csvSpec("tabs.csv"), files: ["tabs.csv": csv(rows: 30, separator: "\t")],
             error: "tabs.csv:1:2: error: line 1 has no ',' but has a tab: bnlab reads comma-separated values"),
        Case(name: "fewer samples than the splits", spec: csvSpec("small.csv", trainSplit: 25, testSplit: 10),
             files: ["small.csv": csv(rows: 30)],
             error: "bad.spec:3:1: error: train_split 25 + test_split 10 = 35 samples, but small.csv has 30"),
        Case(name: "shape that does not match the rows", spec: csvSpec("rows.csv", shape: "1x3x3"),
             files: ["rows.csv": csv(rows: 30)],
             error: "rows.csv:1: error: rows have 16 pixel values but shape 1x3x3 needs 9"),
    ]

    /// Writes case `index` into its own directory under `root`; returns the directory.
    private func write(_ c: Case, index: Int, under root: URL) throws -> URL {
        let directory = root.appendingPathComponent("case-\(index)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(c.spec).write(to: directory.appendingPathComponent("bad.spec"))
        for (name, bytes) in c.files { try Data(bytes).write(to: directory.appendingPathComponent(name)) }
        return directory
    }

    /// The binary as a user runs it: exactly the expected line on stderr, status 2, no output directory.
    func testEveryBadInputIsOneLocatedErrorWithStatusTwoAndNoOutput() throws {
        let root = try scratchDirectory(for: self)
        for (i, c) in Self.cases.enumerated() {
            let directory = try write(c, index: i, under: root)
            let outcome = try BNLabChild.run(["run", "bad.spec", "--out", "out"], in: directory)
            XCTAssertEqual(outcome.status, 2, c.name)
            XCTAssertEqual(outcome.standardError, c.error + "\n", c.name)
            XCTAssertEqual(outcome.standardOutput, "", c.name)
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("out").path),
                           "\(c.name): no partial output")
        }
    }

    /// `bnlab check` refuses every bad input that `bnlab run` refuses (it loads the datasets too): the same
    /// single line on stderr, status 2, and nothing on stdout (no "ok", no estimate).
    func testCheckReportsEveryErrorThatRunReports() throws {
        let root = try scratchDirectory(for: self)
        for (i, c) in Self.cases.enumerated() {
            let directory = try write(c, index: i, under: root)
            let check = try BNLabChild.run(["check", "bad.spec"], in: directory)
            let run = try BNLabChild.run(["run", "bad.spec", "--out", "out"], in: directory)
            XCTAssertEqual(check.status, 2, c.name)
            XCTAssertEqual(check.standardError, run.standardError, c.name)
            XCTAssertEqual(check.standardError, c.error + "\n", c.name)
            XCTAssertEqual(check.standardOutput, "", c.name)
        }
    }

    /// A class with very few samples is accepted with a warning at its first sample, from check and
    /// from run alike (exit status 0).
    func testARareClassIsAWarningOfCheckAndRun() throws {
        let directory = try scratchDirectory(for: self)
        let rows = Self.csvLines(rows: 60, label: { $0 % 2 }) + Self.csvLines(rows: 1, label: { _ in 2 })
        try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: directory.appendingPathComponent("rare.csv"))
        try Data(Self.csvSpec("rare.csv") + Array("epochs 1\n".utf8)).write(to: directory.appendingPathComponent("rare.spec"))
        let warning = "rare.csv:61:33: warning: class 2 has 1 sample (this line) while the median class has 30; the"
            + " stratified split may leave it out of the training or the test split\n"
        try assertCheckAndRunWarn("rare.spec", warning, in: directory)
    }

    /// A setting whose column can never be measured (an mlp's BatchNorm1d at eval_batch_size 1) is a
    /// warning of check and of run, at the setting, naming the column; run leaves it empty with a note.
    func testAColumnThatCannotBeMeasuredIsAWarningOfCheckAndRun() throws {
        let directory = try scratchDirectory(for: self)
        try Data(Self.csv(rows: 30)).write(to: directory.appendingPathComponent("small.csv"))
        try Data(Self.csvSpec("small.csv") + Array("eval_batch_size 1\nepochs 1\n".utf8))
            .write(to: directory.appendingPathComponent("one.spec"))
        let warning = "one.spec:6:17: warning: eval_batch_size 1 with model mlp leaves test_acc_batch_stats empty: every"
            + " batch of the batch-statistics pass over the 10 test samples holds one sample, and BatchNorm1d refuses"
            + " a batch with one value per channel (as PyTorch does)\n"
        try assertCheckAndRunWarn("one.spec", warning, in: directory)
        let table = try String(contentsOf: directory.appendingPathComponent("out/one.csv"), encoding: .utf8)
        XCTAssertTrue(table.contains(",ok,\"test_acc_batch_stats not measured: "), table)
    }

    /// `bnlab check SPEC` and `bnlab run SPEC --out out --quiet` in `directory` both succeed (status 0)
    /// with exactly `warning` on stderr.
    private func assertCheckAndRunWarn(_ spec: String, _ warning: String, in directory: URL,
                                       file: StaticString = #filePath, line: UInt = #line) throws {
        for args in [["check", spec], ["run", spec, "--out", "out", "--quiet"]] {
            let outcome = try BNLabChild.run(args, in: directory, file: file, line: line)
            XCTAssertEqual(outcome.status, 0, "\(args[0]): \(outcome.standardError)", file: file, line: line)
            XCTAssertEqual(outcome.standardError, warning, args[0], file: file, line: line)
        }
    }

    /// The same through `BNLab.main` in this process: the exit status is 2 and nothing is written.
    func testInProcessTheExitStatusIsTwo() throws {
        let root = try scratchDirectory(for: self)
        for (i, c) in Self.cases.enumerated() {
            let directory = try write(c, index: i, under: root)
            let out = directory.appendingPathComponent("out").path
            XCTAssertEqual(BNLab.main(["run", directory.appendingPathComponent("bad.spec").path, "--out", out, "--quiet"]), 2,
                           c.name)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(c.name): no partial output")
        }
    }

    /// Every spec and dataset is checked before any cell runs: a good spec before a bad one writes nothing either.
    func testABadSpecAfterAGoodOneWritesNothing() throws {
        let directory = try scratchDirectory(for: self)
        try "dataset shapes size=12\ntrain_split 8\ntest_split 4\nmodel cnn channels=4\nbatch_size 2\n"
            .write(to: directory.appendingPathComponent("good.spec"), atomically: true, encoding: .utf8)
        try Data(Self.csvSpec("nowhere.csv")).write(to: directory.appendingPathComponent("bad.spec"))
        let outcome = try BNLabChild.run(["run", "good.spec", "bad.spec", "--out", "out"], in: directory)
        XCTAssertEqual(outcome.status, 2)
        XCTAssertEqual(outcome.standardError, "nowhere.csv: error: no such file\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("out").path))
    }
}
