import Foundation
import TensorCore
import XCTest
@testable import Charts
@testable import Datasets
@testable import Experiment
@testable import Reports
@testable import SpecFormat

/// Throws seeded random mutations of valid specs at the parser: it must never
/// crash or hang, and every refusal must be a located error inside the file.
final class SpecFuzzTests: XCTestCase {
    static let fixtures: [String] = [
        """
        # small batches break BatchNorm
        dataset shapes size=16 noise=0.25
        model cnn channels=16,32
        optimizer sgd momentum=0.9 weight_decay=5e-4
        epochs 3
        sweep batch_size 2 4 8 32
        sweep norm batch group layer
        seeds 0 1
        quick epochs=1 train_split=300 seeds=0
        quick_sweep batch_size 2 32
        """,
        """
        model mlp widths=64,64
        norm batchrenorm
        renorm rmax=3 dmax=5 warmup_steps=10 ramp_steps=50
        jitter gain=0.5:2 offset=-0.1:0.1
        sweep jitter_apply both train
        test_normalize own
        dropout 0.1
        sweep momentum 0.1 cumulative
        lr_scaling linear
        base_batch_size 32
        sweep lr 0.1 0.01
        recalibrate_samples 500
        sweep recalibrate_estimator population mean-of-batch-variances
        seeds 3
        """,
        """
        dataset csv path=data/x.csv label_column=last shape=1x8x8 scale=0.5 header=yes
        order class-blocked
        drop_last off
        ghost_batch_size 4
        sweep frozen_bn_epochs 0 1
        epochs 2
        optimizer adamw betas=0.9,0.99 eps=1e-8
        mc_samples 4
        forgot_eval on
        sweep recalibrate_data train test
        """,
        """
        # remedies x batch size
        variant plain-bn
        variant group-norm norm=group groups=4
        variant ghost ghost_batch_size=4 batch_size=32
        variant frozen frozen_bn_epochs=1 momentum=cumulative
        sweep variant plain-bn group-norm ghost frozen
        sweep batch_size 2 8
        seeds 0 1
        quick epochs=1 seeds=0
        quick_sweep variant ghost plain-bn
        """,
    ]

    /// The shipped specs of Experiments/, found from this file's path.
    static func shippedSpecs() -> [(name: String, text: String)] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let folder = root.appendingPathComponent("Experiments")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".spec") }.sorted().compactMap { name in
            guard let text = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) else {
                return nil
            }
            return (name, text)
        }
    }

    /// Pieces a mutation may insert: keys, numbers good and bad, syntax, bytes that are not UTF-8.
    static let pieces: [[UInt8]] = {
        let words = SpecKeyTable.names + [
            "0", "1", "-1", "0.5", "1e", "1e39", "0x10", "nan", "inf", "99999999999999999999", ".5", "2,3", "1:2",
            "=", "==", "#", "\n", "\r\n", " ", "\t", ",", ":", "x", "lr=", "channels=", "widths=0", "path=",
            "groups=3", "seeds=0,0", "norm=group", "batch_size=32", "epochs=1", "ghost", "plain-bn", "cumulative", "off", "on", "all", "group", "batchrenorm", "csv", "mlp", "cnn",
            String(repeating: "9", count: 40), String(repeating: "k", count: 300),
        ]
        return words.map { Array($0.utf8) } + [[0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0x00], [0xEF, 0xBB, 0xBF]]
    }()

    /// One to three random mutations of `bytes`.
    static func mutate(_ original: [UInt8], _ random: inout RandomGenerator) -> [UInt8] {
        var bytes = original
        for _ in 0..<(1 + random.nextInt(below: 3)) {
            let position = random.nextInt(below: bytes.count + 1)
            switch random.nextInt(below: 6) {
            case 0 where !bytes.isEmpty:  // flip one byte
                bytes[min(position, bytes.count - 1)] = UInt8(random.nextInt(below: 256))
            case 1 where !bytes.isEmpty:  // delete a run
                let end = min(bytes.count, position + 1 + random.nextInt(below: 8))
                bytes.removeSubrange(min(position, end)..<end)
            case 2, 3:  // insert a piece, often with a space
                var piece = pieces[random.nextInt(below: pieces.count)]
                if random.nextInt(below: 2) == 0 { piece.insert(UInt8(ascii: " "), at: 0) }
                bytes.insert(contentsOf: piece, at: position)
            case 4:  // duplicate a line
                let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                let line = lines[random.nextInt(below: lines.count)]
                bytes.insert(contentsOf: Array(line) + [UInt8(ascii: "\n")], at: 0)
            default:  // truncate
                bytes.removeSubrange(position..<bytes.count)
            }
        }
        return bytes
    }

    func testShippedSpecsParse() {
        for spec in Self.shippedSpecs() {
            XCTAssertNoThrow(try Spec.parse(text: spec.text, path: "Experiments/\(spec.name)"), spec.name)
        }
        for text in Self.fixtures {
            XCTAssertNoThrow(try parseSpec(text))
        }
    }

    /// What a fuzzing run saw.
    struct FuzzTally {
        var accepted = 0, rejected = 0
        var seconds = 0.0
        /// The longest single parse: a hang shows here whatever the machine's load.
        var slowestSeconds = 0.0
    }

    /// Parses `iterations` seeded mutations of `sources` (round robin). An accepted spec must
    /// expand to a bounded grid of unique cells that the runner can plan; a refusal must be a
    /// `FILE:LINE:COLUMN: error:` line whose line and column lie inside the mutated file.
    func fuzz(_ sources: [String], iterations: Int, seed: UInt64,
              file: StaticString = #filePath, line: UInt = #line) throws -> FuzzTally {
        let pattern = try NSRegularExpression(pattern: "^.+:(\\d+):(\\d+): error: .+$", options: [.dotMatchesLineSeparators])
        var random = RandomGenerator(seed: seed)
        var tally = FuzzTally()
        let start = Date()
        for iteration in 0..<iterations {
            let parseStart = Date()
            defer { tally.slowestSeconds = max(tally.slowestSeconds, Date().timeIntervalSince(parseStart)) }
            let source = Array(sources[iteration % sources.count].utf8)
            let bytes = Self.mutate(source, &random)
            let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            do {
                let spec = try Spec.parse(bytes: bytes, path: "Experiments/fuzz.spec")
                tally.accepted += 1
                let quick = iteration % 2 == 0
                let cells = spec.cells(quick: quick)
                XCTAssertFalse(cells.isEmpty, file: file, line: line)
                XCTAssertLessThanOrEqual(cells.count, SpecGrid.maxCells, file: file, line: line)
                XCTAssertEqual(Set(cells.map { $0.cellKey() }).count, cells.count, "cell keys unique", file: file, line: line)
                if let cell = cells.last {  // what the runner builds from a cell must not trap
                    XCTAssertEqual(Cell(cell, index: 0).training.batchSize, cell.batchSize, file: file, line: line)
                    // every sweepable key, but one with a column only where used when the spec does not write it
                    let keys = SpecKeyTable.settings.filter {
                        $0.sweepable && (!$0.hasColumnOnlyWhereUsed || cell.columnsWhereUsed.contains($0.name))
                    }
                    XCTAssertEqual(cell.settingColumns.map { $0[0] },
                                   (cell.variant == nil ? [] : ["variant"]) + keys.map(\.name), file: file, line: line)
                    XCTAssertEqual(Set(cells.map(\.columnsWhereUsed)).count, 1, "one column set per grid", file: file, line: line)
                }
            } catch let error as SpecError {
                tally.rejected += 1
                let text = error.description
                let range = NSRange(text.startIndex..., in: text)
                guard let match = pattern.firstMatch(in: text, range: range) else {
                    XCTFail("malformed error: \(text)", file: file, line: line)
                    continue
                }
                XCTAssertEqual(error.location.line, Int((text as NSString).substring(with: match.range(at: 1))),
                               file: file, line: line)
                XCTAssertGreaterThanOrEqual(error.location.line, 1, text, file: file, line: line)
                XCTAssertLessThanOrEqual(error.location.line, lines.count + 1, text, file: file, line: line)
                XCTAssertGreaterThanOrEqual(error.location.column, 1, text, file: file, line: line)
                if error.location.line <= lines.count {
                    XCTAssertLessThanOrEqual(error.location.column, lines[error.location.line - 1].count + 1, text,
                                             file: file, line: line)
                }
            }
        }
        tally.seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(tally.accepted + tally.rejected, iterations, file: file, line: line)
        return tally
    }

    func testMutationsOfTheFixturesNeverCrashAndAlwaysLocate() throws {
        let tally = try fuzz(Self.fixtures, iterations: 4_000, seed: 20_240_601)
        print("SpecFuzzTests: fixtures: \(tally.accepted) mutations accepted, \(tally.rejected) rejected,"
              + " in \(String(format: "%.1f", tally.seconds)) s, slowest \(String(format: "%.3f", tally.slowestSeconds)) s")
        XCTAssertGreaterThan(tally.accepted, 100, "the mutations must also reach the grid and its rules")
        XCTAssertGreaterThan(tally.rejected, 2_000)
        // A bound per mutation, not on the total: the total depends on the build and the machine's load
        // (35 s for the shipped specs in a debug build on a busy 2-core machine); one parse of a spec
        // of a few dozen lines takes milliseconds, so 5 s can only be a hang.
        XCTAssertLessThan(tally.slowestSeconds, 5, "the parser must not hang")
    }

    /// Ten thousand mutations of the specs that ship in Experiments/.
    func testTenThousandMutationsOfTheShippedSpecsNeverCrashAndAlwaysLocate() throws {
        let shipped = Self.shippedSpecs().map(\.text)
        XCTAssertGreaterThanOrEqual(shipped.count, 3, "Experiments/*.spec not found from \(#filePath)")
        let tally = try fuzz(shipped, iterations: 10_000, seed: 20_241_123)
        print("SpecFuzzTests: shipped specs: \(tally.accepted) mutations accepted, \(tally.rejected) rejected,"
              + " in \(String(format: "%.1f", tally.seconds)) s, slowest \(String(format: "%.3f", tally.slowestSeconds)) s")
        XCTAssertGreaterThan(tally.accepted, 500, "the mutations must also reach the grid and its rules")
        XCTAssertGreaterThan(tally.rejected, 5_000)
        // A bound per mutation, not on the total: the total depends on the build and the machine's load
        // (35 s for the shipped specs in a debug build on a busy 2-core machine); one parse of a spec
        // of a few dozen lines takes milliseconds, so 5 s can only be a hang.
        XCTAssertLessThan(tally.slowestSeconds, 5, "the parser must not hang")
    }
}
