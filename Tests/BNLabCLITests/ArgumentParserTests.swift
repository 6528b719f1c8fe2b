@testable import BNLabCLI
import XCTest

/// The parser's rules, driven through `bnlab run` (and a few other commands) as a user would.
final class ArgumentParserTests: XCTestCase {
    private func run(_ args: [String], file: StaticString = #filePath, line: UInt = #line) -> RunCommand? {
        guard case .run(let run)? = parsedCommand(["run"] + args, file: file, line: line) else { return nil }
        return run
    }

    private func runError(_ args: [String], file: StaticString = #filePath, line: UInt = #line) -> String? {
        let error = usageError(["run"] + args, file: file, line: line)
        XCTAssertEqual(error?.command, "run", file: file, line: line)
        return error?.message
    }

    func testSeparateAndInlineValuesAreTheSame() {
        XCTAssertEqual(run(["a.spec", "--jobs", "3"])?.jobs, 3)
        XCTAssertEqual(run(["a.spec", "--jobs=3"])?.jobs, 3)
        XCTAssertEqual(run(["a.spec", "--out", "x=y"])?.outputDirectory, "x=y")
        XCTAssertEqual(run(["a.spec", "--out=x=y"])?.outputDirectory, "x=y", "only the first '=' splits")
    }

    func testOptionsAndPositionalsInterleave() {
        let parsed = run(["a.spec", "--jobs", "2", "b.spec", "--quiet", "c.spec"])
        XCTAssertEqual(parsed?.specs, ["a.spec", "b.spec", "c.spec"])
        XCTAssertEqual(parsed?.jobs, 2)
        XCTAssertEqual(parsed?.quiet, true)
    }

    func testDoubleDashEndsOptions() {
        let parsed = run(["--quick", "--", "--jobs", "-h", "--"])
        XCTAssertEqual(parsed?.specs, ["--jobs", "-h", "--"])
        XCTAssertEqual(parsed?.quick, true)
        XCTAssertNil(parsed?.jobs)
    }

    func testLoneDashIsPositional() {
        XCTAssertEqual(run(["-"])?.specs, ["-"])
    }

    func testUnknownOptionSuggestsNearest() {
        XCTAssertEqual(runError(["a", "--job", "3"]), "unknown option '--job'; did you mean '--jobs'?")
        XCTAssertEqual(runError(["a", "--job=3"]), "unknown option '--job'; did you mean '--jobs'?")
        XCTAssertEqual(runError(["a", "--qiuet"]), "unknown option '--qiuet'; did you mean '--quiet'?")
        XCTAssertEqual(runError(["a", "--fr"]), "unknown option '--fr'; did you mean '--fresh'?")
        XCTAssertEqual(runError(["a", "-jobs", "3"]), "unknown option '-jobs'; did you mean '--jobs'?")
        XCTAssertEqual(runError(["a", "--hlep"]), "unknown option '--hlep'; did you mean '--help'?")
        XCTAssertEqual(runError(["a", "--threads", "2"]), "unknown option '--threads'")
        XCTAssertEqual(runError(["a", "-j", "2"]), "unknown option '-j'")
    }

    func testMissingValue() {
        XCTAssertEqual(runError(["a", "--jobs"]), "missing value for option '--jobs N'")
        XCTAssertEqual(runError(["a", "--jobs", "--quiet"]), "missing value for option '--jobs N'")
        XCTAssertEqual(runError(["a", "--out", "--", "b"]), "missing value for option '--out DIR'")
        XCTAssertEqual(runError(["a", "--shard"]), "missing value for option '--shard K/N'")
    }

    func testBadIntegers() {
        for bad in ["x", "3.5", "", "0", "-1", "2x", "99999999999999999999"] {
            XCTAssertEqual(runError(["a", "--jobs", bad]),
                           "invalid value '\(bad)' for option '--jobs N': expected an integer >= 1", bad)
        }
        XCTAssertEqual(runError(["a", "--jobs="]),
                       "invalid value '' for option '--jobs N': expected an integer >= 1")
    }

    func testBadShard() {
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", "-1/3", "1/3/3", "/3", "1/", " 1/3", ""] {
            XCTAssertEqual(runError(["a", "--shard=\(bad)"]),
                           "invalid value '\(bad)' for option '--shard K/N': expected K/N with integers 1 <= K <= N", bad)
        }
    }

    func testGoodShards() {
        XCTAssertEqual(run(["a", "--shard", "1/1"])?.shard, Shard(index: 1, count: 1))
        XCTAssertEqual(run(["a", "--shard", "2/4"])?.shard, Shard(index: 2, count: 4))
        XCTAssertEqual(run(["a", "--shard=3/3"])?.shard?.description, "3/3")
    }

    func testFlagGivenAValue() {
        XCTAssertEqual(runError(["a", "--quiet=yes"]), "option '--quiet' takes no value (got '--quiet=yes')")
        XCTAssertEqual(runError(["a", "--fresh="]), "option '--fresh' takes no value (got '--fresh=')")
        XCTAssertEqual(runError(["a", "--help=me"]), "option '--help' takes no value (got '--help=me')")
    }

    func testRepeatedOption() {
        XCTAssertEqual(runError(["a", "--jobs", "2", "--jobs=3"]), "option '--jobs' is given more than once")
        XCTAssertEqual(runError(["a", "--quiet", "--quiet"]), "option '--quiet' is given more than once")
    }

    func testFirstProblemInCommandLineOrderIsReported() {
        XCTAssertEqual(runError(["--jobs", "x", "--bogus"]),
                       "invalid value 'x' for option '--jobs N': expected an integer >= 1")
        XCTAssertEqual(runError(["--bogus", "--jobs", "x"]), "unknown option '--bogus'")
        XCTAssertEqual(runError(["--jobs", "2"]), "missing argument SPEC", "options parse before positional counts")
    }

    func testPositionalCounts() {
        XCTAssertEqual(usageError(["run"])?.message, "missing argument SPEC")
        XCTAssertEqual(usageError(["check", "--quick"])?.message, "missing argument SPEC")
        XCTAssertEqual(usageError(["new"])?.message, "missing argument NAME")
        XCTAssertEqual(usageError(["new", "a", "b"])?.message, "unexpected argument 'b'")
        XCTAssertEqual(usageError(["merge", "--out", "d"])?.message, "missing argument SPEC")
        XCTAssertEqual(usageError(["merge", "s.spec", "--out", "d"])?.message, "missing argument JOURNAL")
        XCTAssertEqual(usageError(["export-data", "a", "b", "--out", "d"])?.message, "unexpected argument 'b'")
        XCTAssertEqual(usageError(["list", "x"])?.message, "unexpected argument 'x'")
        XCTAssertEqual(usageError(["bench", "--", "--quick"])?.message, "unexpected argument '--quick'")
    }

    func testRequiredOption() {
        XCTAssertEqual(usageError(["merge", "s.spec", "j1"])?.message, "missing option '--out DIR'")
        XCTAssertEqual(usageError(["export-data", "s.spec"])?.message, "missing option '--out DIR'")
    }

    func testHelpAnywhereWinsOverErrors() {
        let runHelp = CommandHelp.text(RunCommand.declaration)
        XCTAssertEqual(helpText(["run", "--help"]), runHelp)
        XCTAssertEqual(helpText(["run", "-h"]), runHelp)
        XCTAssertEqual(helpText(["run", "a", "--jobs", "--help"]), runHelp, "would be a missing value")
        XCTAssertEqual(helpText(["run", "--bogus", "-h"]), runHelp, "would be an unknown option")
        XCTAssertEqual(helpText(["help", "run"]), runHelp)
        XCTAssertEqual(helpText(["bench", "--models", "x", "-h"]), CommandHelp.text(BenchCommand.declaration))
    }

    func testErrorTextAndExitStatus() {
        XCTAssertEqual(usageError(["run", "a", "--job", "3"])?.description,
                       "bnlab: error: unknown option '--job'; did you mean '--jobs'?\nRun 'bnlab run --help'.")
        XCTAssertEqual(usageError(["rn"])?.description,
                       "bnlab: error: unknown command 'rn'; did you mean 'run'?\nRun 'bnlab --help'.")
        XCTAssertEqual(UsageError.exitStatus, 2)
    }

    func testZeroOrMoreArgumentAndNegativeValues() throws {
        let declaration = CommandDeclaration(
            name: "demo", abstract: "Demo.",
            arguments: [ArgumentDeclaration("FILE", count: .zeroOrMore, help: "Files.")],
            options: [.value("offset", .integer(minimum: -5), default: .value("0"), help: "Offset.")])
        guard case .arguments(let none) = try declaration.parse([]) else { return XCTFail("expected arguments") }
        XCTAssertEqual(none.words("FILE"), [])
        XCTAssertEqual(none.integer("offset"), 0, "default parsed from the declaration")
        guard case .arguments(let some) = try declaration.parse(["--offset", "-3", "f"]) else {
            return XCTFail("expected arguments")
        }
        XCTAssertEqual(some.integer("offset"), -3, "a negative number is a value, not an option")
        XCTAssertEqual(some.words("FILE"), ["f"])
        XCTAssertThrowsError(try declaration.parse(["--offset", "-6"])) { error in
            XCTAssertEqual(error as? UsageError,
                           UsageError("invalid value '-6' for option '--offset N': expected an integer >= -5",
                                      command: "demo"))
        }
    }
}
