@testable import BNLabCLI
import XCTest

final class CommandHelpTests: XCTestCase {
    /// The whole `bnlab run --help` text, which `bnlab help run` prints too: usage wrapped under itself, the description paragraph,
    /// ARGUMENTS and OPTIONS with one aligned description column and every default.
    func testRunHelpText() {
        let expected = """
            USAGE: bnlab run SPEC... [--jobs N] [--shard K/N] [--quick] [--out DIR]
                             [--quiet] [--fresh] [--keep-stale]

            Train every cell of the specs' grids and write the result tables. Each cell is
            trained, then evaluated in both train and eval mode. Finished cells are appended
            to a journal in the output directory, so a run that stops resumes where it left
            off; --fresh starts over. A journal written for another version of the spec, or
            by another build of bnlab (its code changed), is kept aside and the run starts
            over, so a table never mixes two versions; --keep-stale resumes another build's
            journal instead. Progress goes to standard error.

            ARGUMENTS:
              SPEC...       Experiment spec files (Experiments/*.spec).

            OPTIONS:
              --jobs N      Number of cells trained at the same time. (default: all cores)
              --shard K/N   Train only share K of N disjoint shares of the cells; combine
                            the shares' journals with 'bnlab merge'.
                            (default: none, every cell)
              --quick       Use the spec's quick settings (fewer samples and epochs): a
                            smoke test.
              --out DIR     Directory holding the journals and result tables.
                            (default: Results)
              --quiet       Print no progress.
              --fresh       Ignore journaled cells and train every cell again.
              --keep-stale  Resume a journal written by another build of bnlab instead of
                            training its cells again; its cells are then taken as this
                            build's.
              -h, --help    Show help for this command.

            """
        XCTAssertEqual(helpText(["run", "--help"]), expected)
        XCTAssertEqual(helpText(["help", "run"]), expected)
    }

    /// `bnlab report` says what it does: it reads the result tables and rewrites the charts and the
    /// report; it neither reads the journals nor writes a table.
    func testReportHelpText() {
        XCTAssertEqual(helpText(["help", "report"]), """
            USAGE: bnlab report SPEC... [--out DIR]

            Rebuild the charts and the reports of the specs from their result tables.
            Nothing is trained and no table is written: NAME-summary.csv and
            NAME-bnstats.csv in the output directory are read, and NAME-accuracy.svg,
            NAME-bnstats.svg and NAME.md are written beside them.

            ARGUMENTS:
              SPEC...     Experiment spec files (Experiments/*.spec).

            OPTIONS:
              --out DIR   Directory holding the result tables. (default: Results)
              -h, --help  Show help for this command.

            """)
    }

    /// A label longer than `maximumLabelWidth` gets its own line; the others keep a narrow column.
    func testBenchLongLabelStandsAlone() {
        let options = helpText(["bench", "-h"]).map { $0.components(separatedBy: "OPTIONS:\n")[1] }
        XCTAssertEqual(options, """
              --quick                 Shorter measurements: a smoke test of the benchmark.
              --threads LIST          Comma-separated thread counts to measure.
                                      (default: 1,2)
              --batch-sizes LIST      Comma-separated batch sizes to measure.
                                      (default: 1,2,8,32,128,512)
              --models all|flagship|cnn28|mlp|resnet
                                      Which models to measure. (default: all)
              --repetitions N         Timed repetitions of each measurement. (default: 5)
              --denormals flush|keep  flush: the steps run with flush-to-zero and
                                      denormals-are-zero, as bnlab always computes; keep:
                                      with the processor's default modes (PyTorch's
                                      default), to measure what flushing is worth.
                                      (default: flush)
              --csv PATH              Also write the measurements to this CSV file.
                                      (default: none)
              -h, --help              Show help for this command.

            """)
    }

    func testRequiredOptionIsNotBracketed() {
        XCTAssertEqual(CommandHelp.usage(MergeCommand.declaration), "bnlab merge SPEC JOURNAL... --out DIR")
        XCTAssertEqual(CommandHelp.usage(ExportDataCommand.declaration), "bnlab export-data SPEC --out DIR [--quick]")
        XCTAssertEqual(CommandHelp.usage(ListCommand.declaration), "bnlab list [--dir DIR]")
        XCTAssertEqual(CommandHelp.usage(ExportTrainingCommand.declaration),
                       "bnlab export-training SPEC --cell KEY --out DIR [--quick] [--full-state-steps N]")
    }

    /// For every command: lines fit 80 columns, the usage names the command, every argument and option
    /// appears with its default, and a command without arguments has no ARGUMENTS section.
    func testEveryCommandsHelpShape() {
        for declaration in Command.declarations {
            let text = CommandHelp.text(declaration)
            let lines = text.components(separatedBy: "\n")
            XCTAssertTrue(lines[0].hasPrefix("USAGE: bnlab \(declaration.name) "), lines[0])
            for line in lines {
                XCTAssertLessThanOrEqual(line.count, CommandHelp.width, line)
                XCTAssertFalse(line.hasSuffix(" "), "trailing space: '\(line)'")
            }
            XCTAssertEqual(text.contains("\nARGUMENTS:\n"), !declaration.arguments.isEmpty, declaration.name)
            XCTAssertTrue(text.contains("\nOPTIONS:\n"))
            for argument in declaration.arguments {
                XCTAssertTrue(text.contains("\n  \(argument.label) "), argument.label)
            }
            for option in declaration.options {
                XCTAssertTrue(text.contains("\n  \(option.label)"), option.label)
                if let note = option.defaultNote {
                    XCTAssertTrue(text.contains(note), "\(declaration.name): \(note)")
                }
            }
        }
    }

    func testTopLevelListsEveryCommand() {
        let text = topLevelHelp()
        XCTAssertTrue(text.hasPrefix("USAGE: bnlab COMMAND [ARGUMENTS] [OPTIONS]\n"))
        // The description column starts two spaces after the longest label ("export-training").
        let width = (Command.declarations.map(\.name.count) + ["help COMMAND".count]).max()! + 2
        for declaration in Command.declarations {
            let row = "\n  " + declaration.name + String(repeating: " ", count: width - declaration.name.count)
            XCTAssertTrue(text.contains(row + declaration.abstract.prefix(30)), declaration.name)
        }
        XCTAssertTrue(text.contains("\n  --version        Show the version.\n"))
        XCTAssertTrue(text.allSatisfy { $0 != "\t" })
        XCTAssertTrue(text.components(separatedBy: "\n").allSatisfy { $0.count <= CommandHelp.width })
    }
}
