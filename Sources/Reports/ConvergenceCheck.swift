import Experiment

/// The convergence check of a spec (`convergence_check`): each checked cell of the grid, trained
/// again with twice its budget, against the grid's cell. A measure has converged when doubling
/// the budget moves its mean by no more than the half-width of the grid cell's 95% confidence interval,
/// |mean(2x) - mean(1x)| <= ci95(1x): a measure that does not move at all (a gap of exactly 0 in every seed,
/// a half-width of 0) has converged.
public struct ConvergenceCheck: Sendable {
    /// The measures judged, and the paired gaps (a gap can have converged while the accuracies still creep up).
    public static let measures: [Metric] = [.testAccTrainMode, .testAccEvalMode, .testAccRecalibrated]
    public static let gaps: [PairedDifference] = [.trainMinusEval, .recalibratedMinusEval]

    public struct Pair: Sendable {
        public let grid: Summary.Row
        public let doubled: Summary.Row
    }

    /// The summary without the doubled cells: what the charts and the findings describe.
    public let grid: Summary
    public let pairs: [Pair]
    /// The grid's `budget_factor` (the doubled cells have twice it).
    public let gridBudgetFactor: Int

    /// Whether a row with these setting values (`value(name)`) is one of the grid's, not a doubled cell's.
    static func isGrid(_ value: (String) -> String?, gridBudgetFactor: Int) -> Bool {
        value("budget_factor").map { $0 == String(gridBudgetFactor) } ?? true
    }

    /// The rows of a per-cell table (the BatchNorm statistics) that belong to the grid.
    public func gridRows(of table: Table) -> Table {
        Table(header: table.header, rows: table.rows.filter { row in
            Self.isGrid({ table.value(row, $0) }, gridBudgetFactor: gridBudgetFactor)
        })
    }

    /// Splits `summary` into the grid's rows (`budget_factor` = `gridBudgetFactor`) and the doubled
    /// cells, each paired with the grid row that has the same other settings.
    public init(summary: Summary, gridBudgetFactor: Int) {
        self.gridBudgetFactor = gridBudgetFactor
        let column = summary.settingNames.firstIndex(of: "budget_factor")
        let isGrid = { (row: Summary.Row) in Self.isGrid({ summary.setting(row, $0) }, gridBudgetFactor: gridBudgetFactor) }
        func others(_ row: Summary.Row) -> [String] {
            column.map { c in row.settings.enumerated().filter { $0.offset != c }.map(\.element) } ?? row.settings
        }
        let gridRows = summary.rows.filter(isGrid)
        grid = Summary(settingNames: summary.settingNames, rows: gridRows)
        pairs = summary.rows.filter { !isGrid($0) }.compactMap { doubled in
            gridRows.first { others($0) == others(doubled) }.map { Pair(grid: $0, doubled: doubled) }
        }
    }

    /// The report's section: a line per checked cell and measure, then the verdict.
    func markdown(sweptSettings: [String], summary: Summary) -> String {
        guard !pairs.isEmpty else { return "No checked cell finished.\n" }
        var lines: [String] = []
        var judged = 0, converged = 0
        for pair in pairs {
            let title = sweptSettings.map { "\($0)=\(summary.setting(pair.grid, $0) ?? "")" }.joined(separator: ", ")
            var parts: [String] = []
            let judgedHere: [(name: String, grid: SeedStatistics?, doubled: SeedStatistics?)] =
                Self.measures.map { ($0.sentenceName ?? $0.name, pair.grid.statistics[$0], pair.doubled.statistics[$0]) }
                + Self.gaps.map { ($0.sentenceName, pair.grid.differences[$0], pair.doubled.differences[$0]) }
            for (name, grid, doubled) in judgedHere {
                guard let before = grid?.mean, let after = doubled?.mean else { continue }
                let move = after - before
                let signed = CSV.signedNumber(move, decimals: 1)
                guard let ci = grid?.ci95 else {
                    parts.append("\(name) \(signed) (one seed: not judged)")
                    continue
                }
                judged += 1
                let within = abs(move) <= ci
                if within { converged += 1 }
                parts.append("\(name) \(signed) (\(within ? "within" : "outside") ±\(CSV.number(ci, decimals: 1)))")
            }
            lines.append("- \(title.isEmpty ? "the cell" : title): twice the budget moves " + parts.joined(separator: ", ") + ".")
        }
        let verdict = judged == 0 ? "No measure could be judged (one seed)."
            : converged == judged ? "Every move is within the grid cell's 95% CI: these trainings have converged for"
                + " what the table reports."
            : "\(judged - converged) of \(judged) moves exceed the grid cell's 95% CI: those cells have not converged,"
                + " and their numbers measure the training budget as well as the normalization."
        return "Each checked cell trained again with twice the budget (`budget_factor` doubled, same seeds); a move"
            + " is the change of the mean, judged against the half-width of the grid cell's 95% CI.\n\n"
            + lines.joined(separator: "\n") + "\n\n" + verdict + "\n"
    }
}
