import Foundation
import Datasets
import Experiment
import Reports
import SpecFormat

/// Writes everything a spec's records produce: the three CSV tables, their provenance
/// (`<spec>-provenance.csv`: this process's build, OpenBLAS and CPU), the charts and the report,
/// each atomically.
enum SpecOutputs {
    static func write(spec: Spec, records: [CellRecord], directory: String, quick: Bool) throws {
        let tables = ResultTables(spec: spec.name, records: records)
        try tables.write(spec: spec.name, to: directory)
        let provenance = Provenance.thisProcess
        try AtomicFile.write(provenance.csv, to: "\(directory)/\(Provenance.fileName(spec: spec.name))")
        try writeReport(spec: spec, directory: directory, summary: tables.summaryValues,
                        statistics: Table(csv: tables.statistics), provenance: provenance)
    }

    /// Charts and `<spec>.md` from the summary and statistics tables and the provenance of their numbers
    /// (nil: not recorded, and left out of the report).
    static func writeReport(spec: Spec, directory: String, summary all: Summary, statistics allStatistics: Table,
                            provenance: Provenance?) throws {
        // The convergence check's doubled cells get their own section; the charts and findings show the grid.
        let gridFactor = spec.cells().first?.budgetFactor ?? 1
        let convergence = spec.hasConvergenceCheck ? ConvergenceCheck(summary: all, gridBudgetFactor: gridFactor) : nil
        let summary = convergence?.grid ?? all
        let statistics = convergence?.gridRows(of: allStatistics) ?? allStatistics
        let charts = ResultCharts(sweptSettings: spec.sweptKeys, summary: summary)
        var files: [String] = []
        let classes = spec.cells().first.flatMap { cell -> Int? in
            if case .shapes = cell.dataset { return 3 }
            return nil
        }
        if let chart = charts.accuracyChart(spec: spec.name, summary: summary, classes: classes) {
            try AtomicFile.write(chart.svg(), to: "\(directory)/\(spec.name)-accuracy.svg")
            files.append("\(spec.name)-accuracy.svg")
        }
        if let chart = charts.statisticsChart(spec: spec.name, statistics: statistics) {
            try AtomicFile.write(chart.svg(), to: "\(directory)/\(spec.name)-bnstats.svg")
            files.append("\(spec.name)-bnstats.svg")
        }
        let text = (try? String(contentsOfFile: spec.path, encoding: .utf8)) ?? ""
        let report = Report.markdown(spec: spec.name, specPath: spec.path, specText: text, sweptSettings: spec.sweptKeys,
                                     summary: all, statistics: statistics, charts: files,
                                     warnings: spec.warnings.map(\.description), convergence: convergence,
                                     provenance: provenance)
        try AtomicFile.write(report, to: "\(directory)/\(spec.name).md")
    }
}
