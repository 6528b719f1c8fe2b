import Foundation

/// `Results/<spec>.md`: the spec, the summary table, the charts, and sentences
/// generated from the summary's numbers (every number quoted comes from the table).
public enum Report {
    /// The summary columns shown in the report's table, with short headings.
    static let shownColumns: [(column: String, heading: String)] = [
        ("train_acc_running", "train (running)"),
        ("test_acc_train_mode", "test, train mode"),
        ("test_acc_eval_mode", "test, eval mode"),
        ("test_acc_recalibrated", "test, recalibrated"),
        ("test_acc_batch_stats", "test, batch stats"),
        ("test_acc_mc_dropout", "test, MC-dropout"),
        ("test_acc_forgot_eval", "test, forgot eval()"),
        ("test_acc_eval_after_forgot_eval", "eval after forgot eval()"),
        ("train_mode_disagreement", "train-mode disagreement"),
        ("test_acc_assigning_bug", "n_correct = ... bug"),
    ]

    /// How the findings sentences name the test-accuracy columns.
    static let sentenceNames: [(column: String, name: String)] = [
        ("test_acc_train_mode", "train mode"),
        ("test_acc_eval_mode", "eval mode"),
        ("test_acc_recalibrated", "recalibrated"),
        ("test_acc_batch_stats", "batch statistics at the eval batch size"),
        ("test_acc_mc_dropout", "MC-dropout"),
        ("test_acc_forgot_eval", "with eval() forgotten"),
        ("test_acc_eval_after_forgot_eval", "eval mode afterwards"),
        ("test_acc_assigning_bug", "reported by the n_correct = ... loop"),
    ]

    /// - Parameters:
    ///   - spec: the spec's name.
    ///   - specPath: the spec file's path as the command line gave it, for the `bnlab run` sentence
    ///     (which names `make experiments` too when it is `Experiments/<spec>.spec`).
    ///   - specText: the spec file's text (its leading comment block is the description).
    ///   - sweptSettings: the swept setting names in file order.
    ///   - warnings: the spec's warnings, quoted in the report.
    public static func markdown(spec: String, specPath: String, specText: String, sweptSettings: [String], summary: Table,
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

    static func formatted(_ summary: Table, _ row: [String], _ column: String) -> String {
        guard let mean = summary.value(row, column + "_mean"), !mean.isEmpty else { return "" }
        let std = summary.value(row, column + "_std") ?? ""
        return std.isEmpty ? mean : "\(mean) ± \(std)"
    }

    static func summaryTable(sweptSettings: [String], summary: Table) -> String {
        let shown = shownColumns.filter { c in summary.rows.contains { !(summary.value($0, c.column + "_mean") ?? "").isEmpty } }
        let header = sweptSettings + ["ok/seeds"] + shown.map(\.heading)
        let rows = summary.rows.map { row in
            sweptSettings.map { summary.value(row, $0) ?? "" }
                + ["\(summary.value(row, "ok") ?? "")/\(summary.value(row, "seeds") ?? "")"]
                + shown.map { formatted(summary, row, $0.column) }
        }
        let alignments = sweptSettings.map { _ in MarkdownTable.Alignment.left }
            + Array(repeating: MarkdownTable.Alignment.right, count: shown.count + 1)
        return MarkdownTable.render(header: header, rows: rows, alignments: alignments)
    }

    /// One sentence per panel, at the smallest and the largest value of the x setting.
    static func findings(sweptSettings: [String], summary: Table) -> String {
        let charts = ResultCharts(sweptSettings: sweptSettings, summary: summary)
        guard !summary.rows.isEmpty else { return "No cells finished.\n" }
        var groups: [String: [[String]]] = [:]
        var order: [String] = []
        for row in summary.rows {
            let title = charts.panelSettings.map { "\($0)=\(summary.value(row, $0) ?? "")" }.joined(separator: ", ")
            if groups[title] == nil { order.append(title) }
            groups[title, default: []].append(row)
        }
        var lines: [String] = []
        for title in order {
            let rows = groups[title]!
            var picks = [rows[0]]
            if let x = charts.xSetting {
                let sorted = rows.sorted { (summary.number($0, x) ?? 0) < (summary.number($1, x) ?? 0) }
                picks = sorted.count > 1 ? [sorted.first!, sorted.last!] : [sorted[0]]
            }
            let parts = picks.map { row -> String in
                let at = charts.xSetting.map { "\($0) \(summary.value(row, $0) ?? "")" } ?? "this cell"
                var s = "at \(at), test accuracy: "
                var measures: [String] = []
                for (column, name) in sentenceNames {
                    if let m = summary.number(row, column + "_mean") { measures.append("\(name) \(CSV.number(m, decimals: 1))%") }
                }
                if let t = summary.number(row, "test_acc_train_mode_mean"), let e = summary.number(row, "test_acc_eval_mode_mean") {
                    measures.append("train mode minus eval mode \(CSV.number(t - e, decimals: 1)) points")
                }
                if let d = summary.number(row, "train_mode_disagreement_mean") {
                    measures.append("\(CSV.number(d, decimals: 1))% of predictions differ between two train-mode passes")
                }
                s += measures.joined(separator: ", ")
                if let ok = summary.value(row, "ok"), let seeds = summary.value(row, "seeds"), ok != seeds {
                    s += " (only \(ok) of \(seeds) seeds ok)"
                }
                return s
            }
            lines.append("- " + (title.isEmpty ? "" : "\(title): ") + parts.joined(separator: "; ") + ".")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
