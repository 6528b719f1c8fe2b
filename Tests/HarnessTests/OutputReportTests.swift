import Experiment
import Reports
import XCTest

/// `Report.markdown`, whole text: a summary table built here (two cells of batch size 2 and 8,
/// two seeds, one of them not ok at batch 8) rendered into the report, compared character for
/// character with the report a reader gets.
final class OutputReportTests: XCTestCase {
    static let specText = "# tiny: a test spec\n# second line of the description\n\nsweep batch_size 2 8\nseeds 0 1\n"

    /// Means and standard deviations as ResultTables writes them (two decimals; empty std where only
    /// one seed measured the column), read as `bnlab report` reads a summary file.
    static let summary = try! Summary(csv: CSV.table(header: table.header, rows: table.rows))
    static let table = Table(
        header: ["spec", "batch_size", "seeds", "ok",
                 "train_acc_running_mean", "train_acc_running_std", "test_acc_train_mode_mean", "test_acc_train_mode_std",
                 "test_acc_eval_mode_mean", "test_acc_eval_mode_std", "test_acc_recalibrated_mean",
                 "test_acc_recalibrated_std", "test_acc_mc_dropout_mean", "test_acc_mc_dropout_std",
                 "train_mode_disagreement_mean", "train_mode_disagreement_std"],
        rows: [
            ["tiny", "2", "2", "2", "91.50", "2.12", "86.00", "1.41", "55.00", "7.07", "71.00", "1.41", "", "", "12.50", "3.54"],
            ["tiny", "8", "2", "1", "67.50", "38.89", "58.00", "", "59.50", "41.72", "62.50", "", "", "", "4.00", ""],
        ])

    static func report(specPath: String = "Experiments/tiny.spec", summary: Summary = summary,
                       charts: [String] = ["tiny-accuracy.svg"],
                       warnings: [String] = ["tiny.spec:4:1: warning: something"]) -> String {
        Report.markdown(spec: "tiny", specPath: specPath, specText: specText, sweptSettings: ["batch_size"],
                        summary: summary, statistics: Table(header: [], rows: []), charts: charts, warnings: warnings)
    }

    /// The title, the description (the spec's leading comment), the run line, the warnings, the chart,
    /// one sentence per end of the batch-size axis (means to one decimal, train minus eval mode:
    /// 86 - 55 = 31.0 and 58 - 59.5 = -1.5, the seeds that failed), the table of the measured columns
    /// (MC-dropout, never measured, is left out; a missing std shows the mean alone), and the spec.
    func testTheWholeReport() {
        XCTAssertEqual(Self.report(), """
            # tiny

            tiny: a test spec
            second line of the description

            Written by `bnlab run Experiments/tiny.spec` (`make experiments`); the tables are [`tiny.csv`](tiny.csv), \
            [`tiny-summary.csv`](tiny-summary.csv) and [`tiny-bnstats.csv`](tiny-bnstats.csv). Accuracies in %, \
            mean ± standard deviation over seeds.

            > warning: tiny.spec:4:1: warning: something

            ![tiny-accuracy.svg](tiny-accuracy.svg)

            ## What the numbers show

            - at batch_size 2, test accuracy: train mode 86.0%, eval mode 55.0%, recalibrated 71.0%, train mode \
            minus eval mode 31.0 points, 12.5% of predictions differ between two train-mode passes; at batch_size 8, \
            test accuracy: train mode 58.0%, eval mode 59.5%, recalibrated 62.5%, train mode minus eval mode -1.5 \
            points, 4.0% of predictions differ between two train-mode passes (only 1 of 2 seeds ok).

            ## Summary

            | batch_size | ok/seeds | train (running) | test, train mode | test, eval mode | test, recalibrated | train-mode disagreement |
            |:-----------|---------:|----------------:|-----------------:|----------------:|-------------------:|------------------------:|
            | 2          |      2/2 |    91.50 ± 2.12 |     86.00 ± 1.41 |    55.00 ± 7.07 |       71.00 ± 1.41 |            12.50 ± 3.54 |
            | 8          |      1/2 |   67.50 ± 38.89 |            58.00 |   59.50 ± 41.72 |              62.50 |                    4.00 |

            ## Spec

            ```
            # tiny: a test spec
            # second line of the description

            sweep batch_size 2 8
            seeds 0 1
            ```

            """)
    }

    /// A spec elsewhere: the run line names its path as given, without `make experiments`; no warning,
    /// no chart. Everything else is as above.
    func testASpecOutsideExperimentsIsNamedByItsPath() {
        let expected = Self.report()
            .replacingOccurrences(of: "Written by `bnlab run Experiments/tiny.spec` (`make experiments`);",
                                  with: "Written by `bnlab run ../lab/tiny.spec`;")
            .replacingOccurrences(of: "> warning: tiny.spec:4:1: warning: something\n\n", with: "")
            .replacingOccurrences(of: "![tiny-accuracy.svg](tiny-accuracy.svg)\n\n", with: "")
        XCTAssertNotEqual(expected, Self.report(), "the three replacements each found their text")
        XCTAssertEqual(Self.report(specPath: "../lab/tiny.spec", charts: [], warnings: []), expected)
        XCTAssertTrue(expected.contains("\nWritten by `bnlab run ../lab/tiny.spec`; the tables are"))
    }

    /// No finished cell: the sentence says so and the table has its header only.
    func testNoFinishedCells() {
        let empty = Summary(settingNames: ["batch_size"], rows: [])
        XCTAssertEqual(Self.report(summary: empty, charts: [], warnings: []), """
            # tiny

            tiny: a test spec
            second line of the description

            Written by `bnlab run Experiments/tiny.spec` (`make experiments`); the tables are [`tiny.csv`](tiny.csv), \
            [`tiny-summary.csv`](tiny-summary.csv) and [`tiny-bnstats.csv`](tiny-bnstats.csv). Accuracies in %, \
            mean ± standard deviation over seeds.

            ## What the numbers show

            No cells finished.

            ## Summary

            | batch_size | ok/seeds |
            |:-----------|---------:|

            ## Spec

            ```
            # tiny: a test spec
            # second line of the description

            sweep batch_size 2 8
            seeds 0 1
            ```

            """)
    }
}
