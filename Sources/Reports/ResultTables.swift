import Charts
import Experiment
import Foundation

/// The CSV tables of a spec, rendered from its cell records in grid order:
/// `<spec>.csv` (a row per cell and seed), `<spec>-summary.csv` (mean and sample
/// standard deviation over seeds per cell), `<spec>-bnstats.csv` (a row per
/// BatchNorm layer per cell and seed) and, when a cell evaluated after every epoch (`epoch_eval`),
/// `<spec>-epochs.csv` (a row per cell, seed and epoch). Column dictionary: Results/README.md.
public struct ResultTables: Equatable {
    public var results: String
    public var summary: String
    public var statistics: String
    /// The per-epoch table; nil when no record has per-epoch rows (and no file is written).
    public var epochs: String?
    /// The summary as values, for the charts and the report.
    public var summaryValues: Summary

    public init(spec: String, records unsorted: [CellRecord]) {
        let records = unsorted.sorted { $0.index < $1.index }
        let settingNames = records.first?.settings.map { $0[0] } ?? []
        let front = ["spec"] + settingNames + ["seed"]
        // The measured columns: every one, but a measure with a column only where measured
        // (``Metric/columnOnlyWhereMeasured()``) when no record holds a value for it.
        let whereMeasured = Set(Metric.all.filter(\.hasColumnOnlyWhereMeasured).map(\.name))
        let shown = CellRecord.metricColumns.indices.filter { i in
            !whereMeasured.contains(CellRecord.metricColumns[i])
                || records.contains { i < $0.metrics.count && !$0.metrics[i].isEmpty }
        }
        results = CSV.table(header: front + shown.map { CellRecord.metricColumns[$0] } + ["wall_seconds"],
                            rows: records.map { r in
                                [spec] + r.settings.map { $0[1] } + [String(r.seed)]
                                    + shown.map { $0 < r.metrics.count ? r.metrics[$0] : "" } + [r.wallSeconds]
                            })
        statistics = CSV.table(header: front + CellRecord.statisticsColumns,
                               rows: records.flatMap { r in r.statistics.map { [spec] + r.settings.map { $0[1] } + [String(r.seed)] + $0 } })
        epochs = records.contains { $0.epochs != nil }
            ? CSV.table(header: front + CellRecord.epochColumns,
                        rows: records.flatMap { r in (r.epochs ?? []).map { [spec] + r.settings.map { $0[1] } + [String(r.seed)] + $0 } })
            : nil
        summaryValues = Summary(records: records)
        summary = summaryValues.csv(spec: spec)
    }

    /// Writes the tables atomically into `directory` as `<spec>.csv`, `<spec>-summary.csv`, `<spec>-bnstats.csv`
    /// and, with per-epoch rows, `<spec>-epochs.csv`.
    public func write(spec: String, to directory: String) throws {
        try AtomicFile.write(results, to: "\(directory)/\(spec).csv")
        try AtomicFile.write(summary, to: "\(directory)/\(spec)-summary.csv")
        try AtomicFile.write(statistics, to: "\(directory)/\(spec)-bnstats.csv")
        if let epochs { try AtomicFile.write(epochs, to: "\(directory)/\(spec)-epochs.csv") }
    }
}
