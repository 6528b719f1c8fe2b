import Experiment
import Reports
import XCTest

/// `Report.markdown`, whole text: a summary table built here (two cells of batch size 2 and 8,
/// two seeds, one of them not ok at batch 8) rendered into the report, compared character for
/// character with the report a reader gets.
final class OutputReportTests: XCTestCase {
    static let specText = "# tiny: a test spec\n# second line of the description\n\nsweep batch_size 2 8\nseeds 0 1\n"
    /// The report's last section: the spec as written.
    static let specSection = "## Spec\n\n```\n" + specText + "```\n"

    /// Means, standard deviations and 95% CI half-widths as ResultTables writes them (two decimals;
    /// empty std and CI where only one seed measured the column), read as `bnlab report` reads a
    /// summary file. The paired difference at batch 2 (31.00 ± 3.59) excludes 0; at batch 8 one seed.
    static let summary = try! Summary(csv: CSV.table(header: table.header, rows: table.rows))
    static let table = Table(
        header: ["spec", "batch_size", "seeds", "ok",
                 "train_acc_running_mean", "train_acc_running_std", "train_acc_running_ci95",
                 "test_acc_train_mode_mean", "test_acc_train_mode_std", "test_acc_train_mode_ci95",
                 "test_acc_eval_mode_mean", "test_acc_eval_mode_std", "test_acc_eval_mode_ci95",
                 "test_acc_recalibrated_mean", "test_acc_recalibrated_std", "test_acc_recalibrated_ci95",
                 "test_acc_mc_dropout_mean", "test_acc_mc_dropout_std", "test_acc_mc_dropout_ci95",
                 "train_mode_disagreement_mean", "train_mode_disagreement_std", "train_mode_disagreement_ci95",
                 "train_mode_minus_eval_mode_mean", "train_mode_minus_eval_mode_std", "train_mode_minus_eval_mode_ci95"],
        rows: [
            ["tiny", "2", "2", "2", "91.50", "2.12", "19.06", "86.00", "1.41", "12.71", "55.00", "7.07", "63.53",
             "71.00", "1.41", "12.71", "", "", "", "12.50", "3.54", "31.77", "31.00", "0.40", "3.59"],
            ["tiny", "8", "2", "1", "67.50", "38.89", "349.42", "58.00", "", "", "59.50", "41.72", "374.83",
             "62.50", "", "", "", "", "", "4.00", "", "", "-1.50", "", ""],
        ])

    /// A fixed provenance, not this machine's, so the texts below do not depend on where the tests run.
    static let provenance = Provenance(
        bnlabVersion: "0.1.0", build: "0123456789abcdef",
        openBLASConfiguration: "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64",
        openBLASCore: "Haswell", cpuModel: "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz")

    static func report(specPath: String = "Experiments/tiny.spec", summary: Summary = summary,
                       charts: [String] = ["tiny-accuracy.svg"],
                       warnings: [String] = ["tiny.spec:4:1: warning: something"],
                       provenance: Provenance? = provenance) -> String {
        Report.markdown(spec: "tiny", specPath: specPath, specText: specText, sweptSettings: ["batch_size"],
                        summary: summary, statistics: Table(header: [], rows: []), charts: charts, warnings: warnings,
                        provenance: provenance)
    }

    /// The provenance paragraph of the reports below.
    static let provenanceParagraph = """
        Computed by bnlab 0.1.0 (build `0123456789abcdef`) with OpenBLAS 0.3.21 running its Haswell kernels \
        (CPU: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz; all in [`tiny-provenance.csv`](tiny-provenance.csv)). \
        The numbers depend on the build and on OpenBLAS's kernel set: with this build, \
        `OPENBLAS_CORETYPE=Haswell make experiments` reproduces the tables byte for byte (`wall_seconds` aside) \
        on any x86-64 machine that can run the Haswell kernels.
        """

    /// The title, the description (the spec's leading comment), the run line, the provenance (the build,
    /// OpenBLAS's version and kernels, the CPU, the command that reproduces the tables), the warnings, the chart,
    /// one sentence per end of the batch-size axis (means and CI half-widths to one decimal; the paired
    /// train minus eval mode gap with its interval, 31.00 ± 3.59 = +27.4 to +34.6, or "one seed"; the
    /// seeds that failed), the table of the measured columns (MC-dropout, never measured, is left out; a
    /// missing interval shows the mean alone) with the paired gap, and the spec.
    func testTheWholeReport() {
        XCTAssertEqual(Self.report(), """
            # tiny
            
            tiny: a test spec
            second line of the description
            
            Written by `bnlab run Experiments/tiny.spec` (`make experiments`); the tables are \
            [`tiny.csv`](tiny.csv), [`tiny-summary.csv`](tiny-summary.csv) and \
            [`tiny-bnstats.csv`](tiny-bnstats.csv). Accuracies in %, mean ± the half-width of its 95% confidence \
            interval over seeds (Student t; the summary CSV also has the standard deviation). A paired \
            difference is taken per seed between two measures of the same model, so its interval is the one to \
            read for a gap.
            
            Computed by bnlab 0.1.0 (build `0123456789abcdef`) with OpenBLAS 0.3.21 running its Haswell kernels \
            (CPU: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz; all in [`tiny-provenance.csv`](tiny-provenance.csv)). \
            The numbers depend on the build and on OpenBLAS's kernel set: with this build, \
            `OPENBLAS_CORETYPE=Haswell make experiments` reproduces the tables byte for byte (`wall_seconds` aside) \
            on any x86-64 machine that can run the Haswell kernels.
            
            > warning: tiny.spec:4:1: warning: something
            
            ![tiny-accuracy.svg](tiny-accuracy.svg)
            
            ## What the numbers show
            
            - at batch_size 2, test accuracy: train mode 86.0% ± 12.7, eval mode 55.0% ± 63.5, recalibrated \
            71.0% ± 12.7, train mode minus eval mode +31.0 points (95% CI +27.4 to +34.6), 12.5% of predictions \
            differ between two train-mode passes; at batch_size 8, test accuracy: train mode 58.0%, eval mode \
            59.5% ± 374.8, recalibrated 62.5%, train mode minus eval mode -1.5 points (one seed: no interval), \
            4.0% of predictions differ between two train-mode passes (only 1 of 2 seeds ok).
            
            ## Summary
            
            | batch_size | ok/seeds | train (running) | test, train mode | test, eval mode | test, recalibrated | train-mode disagreement | train mode minus eval mode (paired) |
            |:-----------|---------:|----------------:|-----------------:|----------------:|-------------------:|------------------------:|------------------------------------:|
            | 2          |      2/2 |   91.50 ± 19.06 |    86.00 ± 12.71 |   55.00 ± 63.53 |      71.00 ± 12.71 |           12.50 ± 31.77 |                       +31.00 ± 3.59 |
            | 8          |      1/2 |  67.50 ± 349.42 |            58.00 |  59.50 ± 374.83 |              62.50 |                    4.00 |                               -1.50 |
            
            \(Self.specSection)
            """)
    }

    /// A spec elsewhere: the run line and the command that reproduces the tables name its path as given,
    /// without `make experiments`; no warning, no chart. Everything else is as above.
    func testASpecOutsideExperimentsIsNamedByItsPath() {
        let expected = Self.report()
            .replacingOccurrences(of: "Written by `bnlab run Experiments/tiny.spec` (`make experiments`);",
                                  with: "Written by `bnlab run ../lab/tiny.spec`;")
            .replacingOccurrences(of: "> warning: tiny.spec:4:1: warning: something\n\n", with: "")
            .replacingOccurrences(of: "![tiny-accuracy.svg](tiny-accuracy.svg)\n\n", with: "")
            .replacingOccurrences(of: "`OPENBLAS_CORETYPE=Haswell make experiments`",
                                  with: "`OPENBLAS_CORETYPE=Haswell bnlab run ../lab/tiny.spec`")
        XCTAssertEqual(expected.components(separatedBy: "`OPENBLAS_CORETYPE=Haswell bnlab run ../lab/tiny.spec`").count, 2)
        XCTAssertNotEqual(expected, Self.report(), "the four replacements each found their text")
        XCTAssertEqual(Self.report(specPath: "../lab/tiny.spec", charts: [], warnings: []), expected)
        XCTAssertTrue(expected.contains("\nWritten by `bnlab run ../lab/tiny.spec`; the tables are"))
    }

    /// Tables written before bnlab recorded their provenance (no `<spec>-provenance.csv` for `bnlab report`
    /// to read): the paragraph is left out, nothing else changes.
    func testWithoutProvenanceTheParagraphIsLeftOut() {
        let expected = Self.report().replacingOccurrences(of: Self.provenanceParagraph + "\n\n", with: "")
        XCTAssertNotEqual(expected, Self.report(), "the paragraph was found")
        XCTAssertEqual(Self.report(provenance: nil), expected)
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
            mean ± the half-width of its 95% confidence interval over seeds (Student t; the summary CSV also has \
            the standard deviation). A paired difference is taken per seed between two measures of the same model, \
            so its interval is the one to read for a gap.

            Computed by bnlab 0.1.0 (build `0123456789abcdef`) with OpenBLAS 0.3.21 running its Haswell kernels \
            (CPU: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz; all in [`tiny-provenance.csv`](tiny-provenance.csv)). \
            The numbers depend on the build and on OpenBLAS's kernel set: with this build, \
            `OPENBLAS_CORETYPE=Haswell make experiments` reproduces the tables byte for byte (`wall_seconds` aside) \
            on any x86-64 machine that can run the Haswell kernels.

            ## What the numbers show

            No cells finished.

            ## Summary

            | batch_size | ok/seeds |
            |:-----------|---------:|

            \(Self.specSection)
            """)
    }
}
