import Charts
import Reports
import SpecFormat
import XCTest

/// `ResultCharts`: which setting is the x axis, which make panels, and what is plotted.
final class OutputResultChartsTests: XCTestCase {
    func table(_ columns: [String], _ rows: [[String]]) -> Table { Table(header: columns, rows: rows) }
    /// A summary of cells with these setting values and no measures.
    func summary(_ settings: [String], _ rows: [[String]]) -> Summary {
        Summary(settingNames: settings, rows: rows.map { Summary.Row(settings: $0, seeds: 1, ok: 1, statistics: [:]) })
    }

    func testBatchSizeIsTheXAxisWheneverItIsSwept() {
        let charts = ResultCharts(sweptSettings: ["momentum", "batch_size"],
                                  summary: summary(["momentum", "batch_size"], [["0.1", "1"], ["0.01", "8"]]))
        XCTAssertEqual(charts.xSetting, "batch_size")
        XCTAssertEqual(charts.panelSettings, ["momentum"])
    }

    func testOtherwiseTheFirstNumericSweptSetting() {
        let words = summary(["norm", "momentum", "dropout"], [["batch", "0.1", "0"], ["group", "cumulative", "0.5"]])
        // norm is a word, momentum has "cumulative": dropout is the first numeric one
        let charts = ResultCharts(sweptSettings: ["norm", "momentum", "dropout"], summary: words)
        XCTAssertEqual(charts.xSetting, "dropout")
        XCTAssertEqual(charts.panelSettings, ["norm", "momentum"])

        let numericMomentum = summary(["momentum", "dropout"], [["0.1", "0"], ["0.01", "0.5"]])
        XCTAssertEqual(ResultCharts(sweptSettings: ["momentum", "dropout"], summary: numericMomentum).xSetting, "momentum")
    }

    func testNoNumericSettingMeansNoChart() {
        let summary = Summary(settingNames: ["norm"], rows: [("batch", 50.0), ("group", 60.0)].map {
            Summary.Row(settings: [$0.0], seeds: 1, ok: 1, statistics: [.testAccEvalMode: SeedStatistics(mean: $0.1, std: nil, ci95: nil)])
        })
        let charts = ResultCharts(sweptSettings: ["norm"], summary: summary)
        XCTAssertNil(charts.xSetting)
        XCTAssertEqual(charts.panelSettings, ["norm"])
        XCTAssertNil(charts.accuracyChart(spec: "s", summary: summary, classes: 3))
    }

    /// The accuracy chart of `SampleRecords`: one panel, a curve per measured accuracy column,
    /// points at the summary means with the 95% CI half-widths as error bars, chance at 100 / 3.
    func testAccuracyChartPlotsTheSummaryMeansAndIntervals() throws {
        let summary = SampleRecords.tables.summaryValues
        let charts = ResultCharts(sweptSettings: ["batch_size"], summary: summary)
        let chart = try XCTUnwrap(charts.accuracyChart(spec: "tiny", summary: summary, classes: 3))
        XCTAssertEqual(chart.panels.count, 1)
        XCTAssertEqual(chart.panels[0].title, "all cells")
        XCTAssertEqual(chart.panels[0].series.map(\.label),
                       ["train mode (batch stats)", "eval mode (running stats)", "recalibrated BN",
                        "batch stats at eval batch size", "printed while training (train split)"])
        XCTAssertEqual(chart.panels[0].series[1].points,
                       [ChartPoint(x: 2, y: 55, error: 63.53), ChartPoint(x: 4, y: 59.5, error: 374.83)])
        XCTAssertEqual(chart.referenceLines, [ChartReferenceLine(y: 100.0 / 3, label: "chance")])
    }

    /// Statistics chart: mean over seeds of `running_var_error` per x value (nan and inf rows of
    /// the diverged seed are plotted as they are, so only a finite chart is asserted here: the
    /// SVG must not contain non-numbers).
    func testStatisticsChartAveragesOverSeeds() throws {
        let tables = SampleRecords.tables
        let charts = ResultCharts(sweptSettings: ["batch_size"], summary: tables.summaryValues)
        let chart = try XCTUnwrap(charts.statisticsChart(spec: "tiny", statistics: Table(csv: tables.statistics)))
        let running = try XCTUnwrap(chart.panels[0].series.first { $0.label == "BN layer 0 running" })
        XCTAssertEqual(running.points.first?.x, 2)
        XCTAssertEqual(running.points.first?.y, 2)  // (1.5 + 2.5) / 2
        // 95% CI of 1.5 and 2.5: t_{0.975, 1} * (1 / sqrt 2) / sqrt 2 = 12.7062 / 2 (scipy); 1e-9 for the t quantile
        XCTAssertEqual(try XCTUnwrap(running.points.first?.error), 12.706204736174694 / 2, accuracy: 1e-9)
        let svg = chart.svg()
        XCTAssertFalse(svg.contains("nan"), "NaN coordinates in the SVG")
        XCTAssertFalse(svg.contains("inf"), "infinite coordinates in the SVG")
    }

    /// A series whose every error is exactly 0 (the first BatchNorm layer after population
    /// recalibration on the split it is probed on) cannot be drawn on the log axis: its legend
    /// entry says so; a series with some zeros counts them.
    func testZeroErrorsAreNamedInTheLegendNotDrawnSilently() throws {
        let columns = ["batch_size", "seed", "layer_index", "running_var_error", "recalibrated_var_error"]
        let statistics = table(columns, [["1", "0", "0", "0.5", "0"], ["1", "1", "0", "0.7", "0"],
                                         ["2", "0", "0", "0.2", "0"], ["2", "1", "0", "0.4", "0.01"],
                                         ["1", "0", "1", "0.3", "0"], ["1", "1", "1", "0.6", "0"],
                                         ["2", "0", "1", "0.1", "0"], ["2", "1", "1", "0.2", "0"]])
        let charts = ResultCharts(sweptSettings: ["batch_size"], summary: summary(["batch_size"], [["1"], ["2"]]))
        let chart = try XCTUnwrap(charts.statisticsChart(spec: "s", statistics: statistics))
        XCTAssertEqual(chart.panels[0].series.map(\.label),
                       ["BN layer 0 running", "BN layer 1 running", "BN layer 0 recalibrated (3 zero values not drawn)",
                        "BN layer 1 recalibrated (exactly 0: not drawn)"])
        XCTAssertEqual(chart.panels[0].series[2].points, [ChartPoint(x: 2, y: 0.01, error: nil)])
        XCTAssertEqual(chart.panels[0].series[3].points, [])
    }
}
