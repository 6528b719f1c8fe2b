import SpecFormat
/// One finished cell as it is journaled and tabulated: every value already
/// formatted as table text, so tables rebuilt from a journal are byte-identical
/// to tables written by the run that measured them.
public struct CellRecord: Codable, Hashable, Sendable {
    /// Position in the spec's grid (cells, then seeds, in file order).
    public var index: Int
    /// The canonical identity of the cell: swept settings and seed.
    public var key: String
    /// Setting columns, in the fixed column order: `[name, value]` pairs.
    public var settings: [[String]]
    /// The cell's seed, 0 ... 2^64 - 1 as the spec's `seeds` allow (a JSON integer in the journal;
    /// journals written while this was an `Int` hold the same digits and decode unchanged).
    public var seed: UInt64
    /// Measured columns, in ``CellRecord/metricColumns`` order.
    public var metrics: [String]
    /// Rows of the BatchNorm-statistics table for this cell (fields after the settings and seed).
    public var statistics: [[String]]
    /// Rows of the per-epoch table (`epoch_eval`) for this cell, fields after the settings and seed in
    /// ``CellRecord/epochColumns`` order; nil without `epoch_eval` (and absent from the journal line, so
    /// older journals decode and re-encode unchanged).
    public var epochs: [[String]]?
    /// Wall-clock seconds (formatted); the one column that differs between runs.
    public var wallSeconds: String

    /// The measured columns, in order: the outcome, then every ``Metric`` (documented in Results/README.md).
    public static let metricColumns = ["status", "status_detail"] + Metric.all.map(\.name)

    /// Columns of the statistics table after the settings and seed.
    public static let statisticsColumns = [
        "layer_index", "layer", "channels",
        "running_mean_error", "running_var_error", "recalibrated_mean_error", "recalibrated_var_error",
    ]

    /// Columns of the per-epoch table after the settings and seed (Results/README.md).
    public static let epochColumns = ["epoch", "test_acc_running_stats", "test_acc_precise_bn"]

    public init(index: Int, key: String, settings: [[String]], seed: UInt64, measurements m: CellMeasurements) {
        self.index = index
        self.key = key
        self.settings = settings
        self.seed = seed
        metrics = [m.status.name, m.detail] + Metric.all.map { CSV.number(m[$0], decimals: $0.decimals) }
        statistics = zip(m.statisticsErrors, m.recalibratedStatisticsErrors.count == m.statisticsErrors.count
                         ? m.recalibratedStatisticsErrors.map(Optional.some)
                         : Array(repeating: nil, count: m.statisticsErrors.count)).map { e, r in
            [String(e.layerIndex), e.layerName, String(e.channels),
             CSV.number(e.meanError, decimals: 5), CSV.number(e.varianceError, decimals: 5),
             CSV.number(r?.meanError, decimals: 5), CSV.number(r?.varianceError, decimals: 5)]
        }
        epochs = m.epochEvaluations.isEmpty ? nil : m.epochEvaluations.map { e in
            [String(e.epoch), CSV.number(e.runningStatisticsAccuracy, decimals: 2), CSV.number(e.preciseBNAccuracy, decimals: 2)]
        }
        wallSeconds = CSV.number(m.wallSeconds, decimals: 2)
    }

    public func metric(_ name: String) -> String? {
        guard let i = Self.metricColumns.firstIndex(of: name), i < metrics.count else { return nil }
        return metrics[i]
    }
}
