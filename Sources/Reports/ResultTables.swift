import Charts
import Experiment
import Foundation

/// The three CSV tables of a spec, rendered from its cell records in grid order:
/// `<spec>.csv` (a row per cell and seed), `<spec>-summary.csv` (mean and sample
/// standard deviation over seeds per cell) and `<spec>-bnstats.csv` (a row per
/// BatchNorm layer per cell and seed). Column dictionary: Results/README.md.
public struct ResultTables: Equatable {
    public var results: String
    public var summary: String
    public var statistics: String

    public init(spec: String, records unsorted: [CellRecord]) {
        let records = unsorted.sorted { $0.index < $1.index }
        let settingNames = records.first?.settings.map { $0[0] } ?? []
        let front = ["spec"] + settingNames + ["seed"]
        results = CSV.table(header: front + CellRecord.metricColumns + ["wall_seconds"],
                            rows: records.map { r in [spec] + r.settings.map { $0[1] } + [String(r.seed)] + r.metrics + [r.wallSeconds] })
        statistics = CSV.table(header: front + CellRecord.statisticsColumns,
                               rows: records.flatMap { r in r.statistics.map { [spec] + r.settings.map { $0[1] } + [String(r.seed)] + $0 } })
        // Summary: one row per cell of the grid (the cell key without its seed), in order of first
        // appearance. Not by the setting values: cells whose variant overrides a swept key train alike
        // but stay separate rows (their runs are repeats, not more seeds).
        var groups: [String: [CellRecord]] = [:]
        var order: [String] = []
        for r in records {
            let cell = Self.cellKeyWithoutSeed(r.key)
            if groups[cell] == nil { order.append(cell) }
            groups[cell, default: []].append(r)
        }
        let statColumns = CellRecord.summarizedColumns.flatMap { [$0 + "_mean", $0 + "_std"] }
        let rows: [[String]] = order.map { cell in
            let members = groups[cell]!
            let settings = members[0].settings.map { $0[1] }
            var row = [spec] + settings + [String(members.count), String(members.filter { $0.metric("status") == "ok" }.count)]
            for column in CellRecord.summarizedColumns {
                let values = members.compactMap { $0.metric(column).flatMap(Double.init) }.filter { !$0.isNaN }
                let (mean, std) = Self.meanAndStd(values)
                let decimals = column == "final_train_loss" ? 4 : 2
                row += [CSV.number(mean, decimals: decimals), CSV.number(std, decimals: decimals)]
            }
            return row
        }
        summary = CSV.table(header: ["spec"] + settingNames + ["seeds", "ok"] + statColumns, rows: rows)
    }

    /// `batch_size=4 seed=1` -> `batch_size=4`; `seed=1` -> ``.
    static func cellKeyWithoutSeed(_ key: String) -> String {
        guard let range = key.range(of: "seed=", options: .backwards) else { return key }
        return String(key[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
    }

    /// Mean and sample standard deviation (n - 1); nil where undefined (no values; one value for std).
    static func meanAndStd(_ values: [Double]) -> (Double?, Double?) {
        guard !values.isEmpty else { return (nil, nil) }
        let mean = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { return (mean, nil) }
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)
        return (mean, variance.squareRoot())
    }

    /// Writes the three tables atomically into `directory` as `<spec>.csv`, `<spec>-summary.csv`, `<spec>-bnstats.csv`.
    public func write(spec: String, to directory: String) throws {
        try AtomicFile.write(results, to: "\(directory)/\(spec).csv")
        try AtomicFile.write(summary, to: "\(directory)/\(spec)-summary.csv")
        try AtomicFile.write(statistics, to: "\(directory)/\(spec)-bnstats.csv")
    }
}
