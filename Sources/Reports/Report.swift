import Charts
import Experiment
import SpecFormat
import Foundation

/// `Results/<spec>.md`: the spec, the summary table, the charts, and sentences
/// generated from the summary's numbers (every number quoted comes from the table).
public enum Report {
    /// - Parameters:
    ///   - spec: the spec's name.
    ///   - specPath: the spec file's path as the command line gave it, for the `bnlab run` sentence
    ///     (which names `make experiments` too when it is `Experiments/<spec>.spec`).
    ///   - specText: the spec file's text (its leading comment block is the description).
    ///   - sweptSettings: the swept setting names in file order.
    ///   - warnings: the spec's warnings, quoted in the report.
    public static func markdown(spec: String, specPath: String, specText: String, sweptSettings: [String], summary: Summary,
                                statistics: Table, charts: [String], warnings: [String] = []) -> String {
        var out = "# \(spec)\n\n"
        let description = specText.split(separator: "\n", omittingEmptySubsequences: false)
            .prefix { $0.hasPrefix("#") }
            .map { $0.dropFirst().trimmingCharacters(in: .whitespaces) }
            .joined(separator: "\n")
        if !description.isEmpty { out += description + "\n\n" }
        out += "Written by `bnlab run \(specPath)`" + (specPath == "Experiments/\(spec).spec" ? " (`make experiments`)" : "")
        out += "; the tables are "
        out += "[`\(spec).csv`](\(spec).csv), [`\(spec)-summary.csv`](\(spec)-summary.csv) and "
        out += "[`\(spec)-bnstats.csv`](\(spec)-bnstats.csv). Accuracies in %, mean ± standard deviation over seeds.\n\n"
        for w in warnings { out += "> warning: \(w)\n" }
        if !warnings.isEmpty { out += "\n" }
        for chart in charts { out += "![\(chart)](\(chart))\n\n" }
        out += "## What the numbers show\n\n" + findings(sweptSettings: sweptSettings, summary: summary) + "\n"
        out += "## Summary\n\n" + summaryTable(sweptSettings: sweptSettings, summary: summary) + "\n"
        out += "## Spec\n\n```\n" + specText + (specText.hasSuffix("\n") ? "" : "\n") + "```\n"
        return out
    }

    /// `mean ± std` as the summary table prints them; empty when not measured.
    static func formatted(_ metric: Metric, _ row: Summary.Row) -> String {
        guard let mean = row.statistics[metric]?.mean else { return "" }
        let text = CSV.number(mean, decimals: metric.decimals)
        guard let std = row.statistics[metric]?.std else { return text }
        return "\(text) ± \(CSV.number(std, decimals: metric.decimals))"
    }

    static func summaryTable(sweptSettings: [String], summary: Summary) -> String {
        let shown = Metric.all.filter { $0.reportHeading != nil && summary.measures($0) }
        let header = sweptSettings + ["ok/seeds"] + shown.map { $0.reportHeading! }
        let rows = summary.rows.map { row in
            sweptSettings.map { summary.setting(row, $0) ?? "" } + ["\(row.ok)/\(row.seeds)"]
                + shown.map { formatted($0, row) }
        }
        let alignments = sweptSettings.map { _ in MarkdownTable.Alignment.left }
            + Array(repeating: MarkdownTable.Alignment.right, count: shown.count + 1)
        return MarkdownTable.render(header: header, rows: rows, alignments: alignments)
    }

    /// One sentence per panel, at the smallest and the largest value of the x setting.
    static func findings(sweptSettings: [String], summary: Summary) -> String {
        let charts = ResultCharts(sweptSettings: sweptSettings, summary: summary)
        guard !summary.rows.isEmpty else { return "No cells finished.\n" }
        var groups: [String: [Summary.Row]] = [:]
        var order: [String] = []
        for row in summary.rows {
            let title = charts.panelSettings.map { "\($0)=\(summary.setting(row, $0) ?? "")" }.joined(separator: ", ")
            if groups[title] == nil { order.append(title) }
            groups[title, default: []].append(row)
        }
        let named = Metric.all.filter { $0.sentenceName != nil }
        var lines: [String] = []
        for title in order {
            let rows = groups[title]!
            var picks = [rows[0]]
            if let x = charts.xSetting {
                let sorted = rows.sorted { (summary.number($0, x) ?? 0) < (summary.number($1, x) ?? 0) }
                picks = sorted.count > 1 ? [sorted.first!, sorted.last!] : [sorted[0]]
            }
            let parts = picks.map { row -> String in
                let at = charts.xSetting.map { "\($0) \(summary.setting(row, $0) ?? "")" } ?? "this cell"
                var s = "at \(at), test accuracy: "
                func mean(_ m: Metric) -> Double? { row.statistics[m]?.mean }
                var measures: [String] = []
                for metric in named {
                    if let m = mean(metric) { measures.append("\(metric.sentenceName!) \(CSV.number(m, decimals: 1))%") }
                }
                if let t = mean(.testAccTrainMode), let e = mean(.testAccEvalMode) {
                    measures.append("train mode minus eval mode \(CSV.number(t - e, decimals: 1)) points")
                }
                if let d = mean(.trainModeDisagreement) {
                    measures.append("\(CSV.number(d, decimals: 1))% of predictions differ between two train-mode passes")
                }
                s += measures.joined(separator: ", ")
                if row.ok != row.seeds { s += " (only \(row.ok) of \(row.seeds) seeds ok)" }
                return s
            }
            lines.append("- " + (title.isEmpty ? "" : "\(title): ") + parts.joined(separator: "; ") + ".")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
