import Charts
import Experiment
import SpecFormat
/// Builds the charts of a spec from its summary and statistics tables.
///
/// The x axis is `batch_size` when the spec sweeps it, otherwise the first swept
/// numeric setting; log2 for sizes and counts. One panel per combination of the
/// other swept settings. Accuracy chart: one curve per measured accuracy column
/// (train mode, eval mode, recalibrated, batch statistics, and MC-dropout /
/// forgot-eval when measured), error bars = the 95% confidence interval of the mean over seeds (Student t).
/// Statistics chart: the relative error of the running variance per layer,
/// before and after recalibration, on a log10 axis.
public struct ResultCharts {
    /// Settings whose values are sizes or counts, drawn on a log2 axis.
    static let log2Settings: Set<String> = ["batch_size", "eval_batch_size", "recalibrate_samples",
                                            "recalibrate_batch_size", "ghost_batch_size", "mc_samples", "epochs"]

    /// The curves of the accuracy chart: every ``Metric`` with a chart label, those on the test
    /// split first, so the test curves keep their colours whatever else is measured.
    static let accuracyCurves: [Metric] = Metric.all.filter { $0.chartLabel != nil && $0.split != .train }
        + Metric.all.filter { $0.chartLabel != nil && $0.split == .train }

    public let xSetting: String?
    public let panelSettings: [String]

    /// - Parameter sweptSettings: the swept setting names in file order.
    public init(sweptSettings: [String], summary: Summary) {
        let numeric = sweptSettings.filter { name in
            summary.rows.allSatisfy { summary.setting($0, name).flatMap(Double.init) != nil }
        }
        let x = numeric.contains("batch_size") ? "batch_size" : numeric.first
        xSetting = x
        panelSettings = sweptSettings.filter { $0 != x }
    }

    /// Rows grouped by the values of the panel settings (`value(row, name)`), in order of first appearance.
    private func panels<Row>(_ rows: [Row], value: (Row, String) -> String?) -> [(title: String, rows: [Row])] {
        var order: [String] = []
        var groups: [String: [Row]] = [:]
        for row in rows {
            let title = panelSettings.map { "\($0)=\(value(row, $0) ?? "")" }.joined(separator: ", ")
            if groups[title] == nil { order.append(title) }
            groups[title, default: []].append(row)
        }
        return order.map { ($0.isEmpty ? "all cells" : $0, groups[$0]!) }
    }

    private var xAxis: ChartAxis? {
        guard let x = xSetting else { return nil }
        return ChartAxis(title: x.replacingOccurrences(of: "_", with: " "), scale: Self.log2Settings.contains(x) ? .log2 : .linear)
    }

    /// Test accuracy against the x setting; nil when the spec sweeps no numeric setting.
    public func accuracyChart(spec: String, summary: Summary, classes: Int?) -> Chart? {
        guard let x = xSetting, let axis = xAxis else { return nil }
        let curves = Self.accuracyCurves.filter(summary.measures)
        let panels = panels(summary.rows, value: summary.setting).map { panel in
            ChartPanel(title: panel.title, series: curves.map { metric in
                ChartSeries(label: metric.chartLabel!, points: panel.rows.compactMap { row in
                    guard let xv = summary.number(row, x), let y = row.statistics[metric]?.mean else { return nil }
                    return ChartPoint(x: xv, y: y, error: row.statistics[metric]?.ci95)
                })
            })
        }
        let chance = classes.map { [ChartReferenceLine(y: 100 / Double($0), label: "chance")] } ?? []
        return Chart(title: "\(spec): accuracy (mean ± 95% CI over seeds, Student t; test split unless marked)", panels: panels, xAxis: axis,
                     yAxis: ChartAxis(title: "accuracy (%)", scale: .linear, range: 0...100),
                     referenceLines: chance)
    }

    /// Relative error of the running variance per layer; nil without statistics rows.
    public func statisticsChart(spec: String, statistics: Table) -> Chart? {
        guard let x = xSetting, let axis = xAxis, !statistics.rows.isEmpty else { return nil }
        let layers = Array(Set(statistics.rows.compactMap { statistics.value($0, "layer_index") })).sorted()
        let panels = panels(statistics.rows, value: statistics.value).map { panel -> ChartPanel in
            var series: [ChartSeries] = []
            for (column, suffix) in [("running_var_error", "running"), ("recalibrated_var_error", "recalibrated")] {
                for layer in layers {
                    // mean and 95% CI over seeds of each x value
                    var byX: [Double: [Double]] = [:]
                    var zeros = 0, measured = 0
                    for row in panel.rows where statistics.value(row, "layer_index") == layer {
                        guard let xv = statistics.number(row, x), let y = statistics.number(row, column) else { continue }
                        measured += 1
                        if y > 0 { byX[xv, default: []].append(y) } else if y == 0 { zeros += 1 }
                    }
                    let points = byX.keys.sorted().map { xv -> ChartPoint in
                        let statistics = SeedStatistics(of: byX[xv]!)
                        return ChartPoint(x: xv, y: statistics.mean ?? .nan, error: statistics.ci95)
                    }
                    // An error of exactly 0 has no place on a log axis: say so in the legend
                    // rather than leave an entry with nothing drawn (e.g. the first BatchNorm
                    // layer after population recalibration on the very split it is probed on).
                    let note = measured > 0 && zeros == measured ? " (exactly 0: not drawn)"
                        : zeros > 0 ? " (\(zeros) zero values not drawn)" : ""
                    series.append(ChartSeries(label: "BN layer \(layer) \(suffix)\(note)", points: points))
                }
            }
            return ChartPanel(title: panel.title, series: series)
        }
        return Chart(title: "\(spec): error of the running variance vs the population variance",
                     panels: panels, xAxis: axis,
                     yAxis: ChartAxis(title: "|running var - population var| / population var", scale: .log10))
    }
}
