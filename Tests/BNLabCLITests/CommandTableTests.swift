@testable import BNLabCLI
import XCTest

/// Every option of every command, with its default and when given.
final class CommandTableTests: XCTestCase {
    func testRunDefaults() {
        guard case .run(let run)? = parsedCommand(["run", "a.spec", "b.spec"]) else { return XCTFail() }
        XCTAssertEqual(run.specs, ["a.spec", "b.spec"])
        XCTAssertNil(run.jobs, "nil means all cores")
        XCTAssertNil(run.shard)
        XCTAssertFalse(run.quick)
        XCTAssertEqual(run.outputDirectory, "Results")
        XCTAssertFalse(run.quiet)
        XCTAssertFalse(run.fresh)
    }

    func testRunEveryOption() {
        let separate = parsedCommand(["run", "a.spec", "--jobs", "4", "--shard", "2/3", "--quick",
                                      "--out", "Out", "--quiet", "--fresh"])
        let inline = parsedCommand(["run", "--jobs=4", "--shard=2/3", "--quick", "--out=Out",
                                    "--quiet", "--fresh", "a.spec"])
        guard case .run(let run)? = separate else { return XCTFail() }
        XCTAssertEqual(run.specs, ["a.spec"])
        XCTAssertEqual(run.jobs, 4)
        XCTAssertEqual(run.shard, Shard(index: 2, count: 3))
        XCTAssertTrue(run.quick)
        XCTAssertEqual(run.outputDirectory, "Out")
        XCTAssertTrue(run.quiet)
        XCTAssertTrue(run.fresh)
        XCTAssertEqual(inline, separate)
    }

    func testCheck() {
        guard case .check(let plain)? = parsedCommand(["check", "a.spec"]),
              case .check(let quick)? = parsedCommand(["check", "a.spec", "b.spec", "--quick"])
        else { return XCTFail() }
        XCTAssertEqual(plain.specs, ["a.spec"])
        XCTAssertFalse(plain.quick)
        XCTAssertEqual(quick.specs, ["a.spec", "b.spec"])
        XCTAssertTrue(quick.quick)
    }

    func testList() {
        guard case .list(let plain)? = parsedCommand(["list"]),
              case .list(let separate)? = parsedCommand(["list", "--dir", "Mine"]),
              case .list(let inline)? = parsedCommand(["list", "--dir=Mine"])
        else { return XCTFail() }
        XCTAssertEqual(plain.directory, "Experiments")
        XCTAssertEqual(separate.directory, "Mine")
        XCTAssertEqual(inline.directory, "Mine")
        XCTAssertEqual(usageError(["list", "--dir="])?.message,
                       "invalid value '' for option '--dir DIR': expected a non-empty path")
    }

    /// `NAME SPEC... [--out DIR]` (report, status): the specs in command-line order, and the output
    /// directory `Results` unless `--out DIR` or `--out=DIR` gives one. `values` takes the specs and
    /// the directory out of the parsed command, nil when it is another command.
    private func assertSpecsAndOutputDirectory(_ name: String, file: StaticString = #filePath, line: UInt = #line,
                                               _ values: (Command?) -> (specs: [String], directory: String)?) {
        let plain = values(parsedCommand([name, "a.spec"], file: file, line: line))
        XCTAssertEqual(plain?.specs, ["a.spec"], file: file, line: line)
        XCTAssertEqual(plain?.directory, "Results", file: file, line: line)
        for out in [["--out", "Out"], ["--out=Out"]] {
            let given = values(parsedCommand([name, "a.spec", "b.spec"] + out, file: file, line: line))
            XCTAssertEqual(given?.specs, ["a.spec", "b.spec"], file: file, line: line)
            XCTAssertEqual(given?.directory, "Out", file: file, line: line)
        }
    }

    func testReport() {
        assertSpecsAndOutputDirectory("report") {
            if case .report(let c)? = $0 { return (c.specs, c.outputDirectory) } else { return nil }
        }
    }

    func testMerge() {
        guard case .merge(let merge)? = parsedCommand(["merge", "a.spec", "--out", "Merged", "j1", "j2"])
        else { return XCTFail() }
        XCTAssertEqual(merge.spec, "a.spec")
        XCTAssertEqual(merge.journals, ["j1", "j2"])
        XCTAssertEqual(merge.outputDirectory, "Merged")
        XCTAssertEqual(parsedCommand(["merge", "--out=Merged", "a.spec", "j1", "j2"]), .merge(merge))
    }

    func testStatus() {
        assertSpecsAndOutputDirectory("status") {
            if case .status(let c)? = $0 { return (c.specs, c.outputDirectory) } else { return nil }
        }
    }

    func testNew() {
        guard case .new(let plain)? = parsedCommand(["new", "my-test"]),
              case .new(let given)? = parsedCommand(["new", "--force", "my-test", "--dir=Mine"])
        else { return XCTFail() }
        XCTAssertEqual(plain.name, "my-test")
        XCTAssertEqual(plain.directory, "Experiments")
        XCTAssertFalse(plain.force)
        XCTAssertEqual(given.name, "my-test")
        XCTAssertEqual(given.directory, "Mine")
        XCTAssertTrue(given.force)
    }

    func testBenchDefaults() {
        guard case .bench(let bench)? = parsedCommand(["bench"]) else { return XCTFail() }
        XCTAssertFalse(bench.quick)
        XCTAssertEqual(bench.threads, [1, 2])
        XCTAssertEqual(bench.batchSizes, [1, 2, 8, 32, 128, 512])
        XCTAssertEqual(bench.models, .all)
        XCTAssertEqual(bench.repetitions, 5)
        XCTAssertNil(bench.csvPath, "nil means no CSV")
    }

    func testBenchEveryOption() {
        let separate = parsedCommand(["bench", "--quick", "--threads", "1,2,4", "--batch-sizes", "8",
                                      "--models", "cnn28", "--repetitions", "2", "--csv", "b.csv"])
        let inline = parsedCommand(["bench", "--quick", "--threads=1,2,4", "--batch-sizes=8",
                                    "--models=cnn28", "--repetitions=2", "--csv=b.csv"])
        guard case .bench(let bench)? = separate else { return XCTFail() }
        XCTAssertTrue(bench.quick)
        XCTAssertEqual(bench.threads, [1, 2, 4])
        XCTAssertEqual(bench.batchSizes, [8])
        XCTAssertEqual(bench.models, .cnn28)
        XCTAssertEqual(bench.repetitions, 2)
        XCTAssertEqual(bench.csvPath, "b.csv")
        XCTAssertEqual(inline, separate)
        for models in BenchCommand.Models.allCases {
            guard case .bench(let chosen)? = parsedCommand(["bench", "--models", models.rawValue]) else {
                return XCTFail()
            }
            XCTAssertEqual(chosen.models, models)
        }
    }

    func testBenchBadValues() {
        for bad in ["", "1,,2", "0", "1,0", "a", "1,", ",1", "1;2"] {
            XCTAssertEqual(usageError(["bench", "--threads=\(bad)"])?.message,
                           "invalid value '\(bad)' for option '--threads LIST': expected comma-separated integers >= 1")
        }
        XCTAssertEqual(usageError(["bench", "--batch-sizes", "-8"])?.message,
                       "invalid value '-8' for option '--batch-sizes LIST': expected comma-separated integers >= 1")
        XCTAssertEqual(usageError(["bench", "--models", "vgg"])?.message,
                       "invalid value 'vgg' for option '--models all|flagship|cnn28|mlp|resnet': "
                           + "expected one of 'all', 'flagship', 'cnn28', 'mlp', 'resnet'")
        XCTAssertEqual(usageError(["bench", "--repetitions", "0"])?.message,
                       "invalid value '0' for option '--repetitions N': expected an integer >= 1")
        XCTAssertEqual(usageError(["bench", "--batch-size", "8"])?.message,
                       "unknown option '--batch-size'; did you mean '--batch-sizes'?")
    }

    func testExportData() {
        guard case .exportData(let export)? = parsedCommand(["export-data", "a.spec", "--out", "Data"]) else {
            return XCTFail()
        }
        XCTAssertEqual(export.target.spec, "a.spec")
        XCTAssertEqual(export.target.outputDirectory, "Data")
        XCTAssertFalse(export.target.quick, "the full grid unless --quick")
        XCTAssertEqual(parsedCommand(["export-data", "--out=Data", "a.spec"]), .exportData(export))
        guard case .exportData(let quick)? = parsedCommand(["export-data", "a.spec", "--quick", "--out", "Data"]) else {
            return XCTFail()
        }
        XCTAssertTrue(quick.target.quick)
        XCTAssertEqual(quick.target.spec, "a.spec")
        XCTAssertEqual(quick.target.outputDirectory, "Data")
    }

    func testExportTraining() {
        let key = "batch_size=4 momentum=0.1 seed=0"
        guard case .exportTraining(let export)? = parsedCommand(["export-training", "a.spec", "--cell", key, "--out", "D"])
        else { return XCTFail() }
        XCTAssertEqual(export.target.spec, "a.spec")
        XCTAssertEqual(export.cellKey, key)
        XCTAssertEqual(export.target.outputDirectory, "D")
        XCTAssertFalse(export.target.quick)
        XCTAssertEqual(export.fullStateSteps, 200, "the default")
        guard case .exportTraining(let quick)? = parsedCommand(["export-training", "--quick", "--cell=\(key)", "a.spec",
                                                                "--out", "D", "--full-state-steps", "0"])
        else { return XCTFail() }
        XCTAssertTrue(quick.target.quick)
        XCTAssertEqual(quick.fullStateSteps, 0)
        XCTAssertEqual(quick.cellKey, key)
        XCTAssertEqual(usageError(["export-training", "a.spec", "--out", "D"])?.message, "missing option '--cell KEY'")
        XCTAssertEqual(usageError(["export-training", "a.spec", "--cell", "", "--out", "D"])?.message,
                       "invalid value '' for option '--cell KEY': expected a non-empty text")
    }

    func testTopLevel() {
        XCTAssertEqual(parseCommandLine(["--version"]), .version)
        XCTAssertEqual(helpText(["--help"]), topLevelHelp())
        XCTAssertEqual(helpText(["-h"]), topLevelHelp())
        XCTAssertEqual(helpText(["help"]), topLevelHelp())
        XCTAssertEqual(usageError([]), UsageError("missing command", command: nil))
        XCTAssertEqual(usageError(["--version", "x"]), UsageError("unexpected argument 'x'", command: nil))
        XCTAssertEqual(usageError(["help", "run", "x"]), UsageError("unexpected argument 'x'", command: nil))
        XCTAssertEqual(usageError(["--verison"]),
                       UsageError("unknown option '--verison'; did you mean '--version'?", command: nil))
        XCTAssertEqual(usageError(["exportdata"]),
                       UsageError("unknown command 'exportdata'; did you mean 'export-data'?", command: nil))
        XCTAssertEqual(usageError(["help", "stauts"]),
                       UsageError("unknown command 'stauts'; did you mean 'status'?", command: nil))
        XCTAssertEqual(usageError(["train"]), UsageError("unknown command 'train'", command: nil))
    }

    func testEveryCommandHasHelp() {
        let names = Command.declarations.map(\.name)
        XCTAssertEqual(names, ["run", "check", "list", "report", "merge", "status", "new", "bench", "export-data",
                               "export-training"])
        for declaration in Command.declarations {
            XCTAssertEqual(helpText(["help", declaration.name]), CommandHelp.text(declaration))
            XCTAssertEqual(helpText([declaration.name, "--help"]), CommandHelp.text(declaration))
        }
    }
}
