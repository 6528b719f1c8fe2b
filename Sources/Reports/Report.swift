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
    ///   - provenance: what computed the numbers (`<spec>-provenance.csv`); nil leaves its paragraph out.
    public static func markdown(spec: String, specPath: String, specText: String, sweptSettings: [String], summary: Summary,
                                statistics: Table, charts: [String], warnings: [String] = [],
                                convergence: ConvergenceCheck? = nil, provenance: Provenance? = nil) -> String {
        var out = "# \(spec)\n\n"
        let description = specText.split(separator: "\n", omittingEmptySubsequences: false)
            .prefix { $0.hasPrefix("#") }
            .map { $0.dropFirst().trimmingCharacters(in: .whitespaces) }
            .joined(separator: "\n")
        if !description.isEmpty { out += description + "\n\n" }
        out += "Written by `bnlab run \(specPath)`" + (specPath == "Experiments/\(spec).spec" ? " (`make experiments`)" : "")
        out += "; the tables are "
        out += "[`\(spec).csv`](\(spec).csv), [`\(spec)-summary.csv`](\(spec)-summary.csv) and "
        out += "[`\(spec)-bnstats.csv`](\(spec)-bnstats.csv). Accuracies in %, mean ± the half-width of its 95% confidence interval over seeds "
        out += "(Student t; the summary CSV also has the standard deviation). A paired difference is taken per seed "
        out += "between two measures of the same model, so its interval is the one to read for a gap.\n\n"
        if let provenance { out += provenanceParagraph(provenance, spec: spec, specPath: specPath) }
        for w in warnings { out += "> warning: \(w)\n" }
        if !warnings.isEmpty { out += "\n" }
        for chart in charts { out += "![\(chart)](\(chart))\n\n" }
        out += "## What the numbers show\n\n" + findings(sweptSettings: sweptSettings, summary: convergence?.grid ?? summary)
            + "\n"
        if let convergence {
            out += "## Convergence check\n\n" + convergence.markdown(sweptSettings: sweptSettings, summary: summary) + "\n"
        }
        let shown = convergence == nil ? sweptSettings : sweptSettings + ["budget_factor"]
        out += "## Summary\n\n" + summaryTable(sweptSettings: shown, summary: summary) + "\n"
        out += "## Spec\n\n```\n" + specText + (specText.hasSuffix("\n") ? "" : "\n") + "```\n"
        return out
    }

    /// `mean ± ci95` as the summary table prints them (the mean alone with one seed); empty when not measured.
    static func formatted(_ statistics: SeedStatistics?, decimals: Int, signed: Bool = false) -> String {
        guard let mean = statistics?.mean else { return "" }
        let text = signed ? CSV.signedNumber(mean, decimals: decimals) : CSV.number(mean, decimals: decimals)
        guard let ci95 = statistics?.ci95 else { return text }
        return "\(text) ± \(CSV.number(ci95, decimals: decimals))"
    }

    /// A paired difference for a sentence: `+35.9 points (95% CI +33.0 to +38.8)`, and whether the
    /// interval excludes 0; with one seed, no interval and no verdict.
    static func differenceSentence(_ d: PairedDifference, _ s: SeedStatistics) -> String? {
        guard let mean = s.mean else { return nil }
        func signed(_ x: Double) -> String { CSV.signedNumber(x, decimals: 1) }
        var text = "\(d.sentenceName) \(signed(mean)) points"
        if let interval = s.interval {
            let excludesZero = interval.lowerBound > 0 || interval.upperBound < 0
            text += " (95% CI \(signed(interval.lowerBound)) to \(signed(interval.upperBound))"
                + (excludesZero ? ")" : ": no significant difference)")
        } else {
            text += " (one seed: no interval)"
        }
        return text
    }

    static func summaryTable(sweptSettings: [String], summary: Summary) -> String {
        let shown = Metric.all.filter { $0.reportHeading != nil && summary.measures($0) }
        let gaps = PairedDifference.all.filter { d in summary.rows.contains { $0.differences[d]?.mean != nil } }
        let header = sweptSettings + ["ok/seeds"] + shown.map { $0.reportHeading! } + gaps.map { "\($0.sentenceName) (paired)" }
        let rows = summary.rows.map { row in
            sweptSettings.map { summary.setting(row, $0) ?? "" } + ["\(row.ok)/\(row.seeds)"]
                + shown.map { formatted(row.statistics[$0], decimals: $0.decimals) }
                + gaps.map { formatted(row.differences[$0], decimals: Summary.differenceDecimals, signed: true) }
        }
        let alignments = sweptSettings.map { _ in MarkdownTable.Alignment.left }
            + Array(repeating: MarkdownTable.Alignment.right, count: shown.count + gaps.count + 1)
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
                    guard let m = mean(metric) else { continue }
                    let ci = row.statistics[metric]?.ci95.map { " ± \(CSV.number($0, decimals: 1))" } ?? ""
                    measures.append("\(metric.sentenceName!) \(CSV.number(m, decimals: 1))%\(ci)")
                }
                for d in PairedDifference.all {
                    if let sentence = row.differences[d].flatMap({ differenceSentence(d, $0) }) { measures.append(sentence) }
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
