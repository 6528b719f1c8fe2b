import Experiment

/// A measure over a cell's seeds: the mean, the sample standard deviation (n - 1) and the
/// half-width of the 95% confidence interval of the mean (Student t, ``StudentT/halfWidth95(std:n:)``),
/// as the summary table prints them (rounded to the metric's decimals, so a report built from the
/// records and one built from `<spec>-summary.csv` quote the same numbers).
public struct SeedStatistics: Hashable, Sendable {
    /// nil when no seed has a number.
    public var mean: Double?
    /// nil with fewer than two numbers.
    public var std: Double?
    /// `t_{0.975, n-1} * std / sqrt(n)`; nil with fewer than two numbers.
    public var ci95: Double?

    public init(mean: Double?, std: Double?, ci95: Double?) { self.mean = mean; self.std = std; self.ci95 = ci95 }

    /// The statistics of `values`; nil where undefined.
    public init(of values: [Double]) {
        guard !values.isEmpty else { self.init(mean: nil, std: nil, ci95: nil); return }
        let mean = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { self.init(mean: mean, std: nil, ci95: nil); return }
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)
        let std = variance.squareRoot()
        self.init(mean: mean, std: std, ci95: StudentT.halfWidth95(std: std, n: values.count))
    }

    /// The interval `mean ± ci95`; nil without one.
    public var interval: ClosedRange<Double>? {
        guard let mean, let ci95 else { return nil }
        return (mean - ci95)...(mean + ci95)
    }

    /// As the table prints it: each number rounded to `decimals` digits.
    func printed(decimals: Int) -> SeedStatistics {
        func round(_ x: Double?) -> Double? { Double(CSV.number(x, decimals: decimals)) }
        return SeedStatistics(mean: round(mean), std: round(std), ci95: round(ci95))
    }

    /// The three summary fields.
    func fields(decimals: Int) -> [String] {
        [mean, std, ci95].map { CSV.number($0, decimals: decimals) }
    }
}

/// `<spec>-summary.csv` as values: one row per grid cell with its settings, how many seeds ran
/// (and finished `ok`), and the ``SeedStatistics`` of every summarized ``Metric``. The charts and
/// the report take this, whether it was just computed from the records or read back from disk.
public struct Summary: Hashable, Sendable {
    public struct Row: Hashable, Sendable {
        /// The setting values, in ``Summary/settingNames`` order, as the tables write them.
        public var settings: [String]
        public var seeds: Int
        public var ok: Int
        public var statistics: [Metric: SeedStatistics]
        public var differences: [PairedDifference: SeedStatistics]

        public init(settings: [String], seeds: Int, ok: Int, statistics: [Metric: SeedStatistics],
                    differences: [PairedDifference: SeedStatistics] = [:]) {
            self.settings = settings; self.seeds = seeds; self.ok = ok; self.statistics = statistics
            self.differences = differences
        }
    }

    /// The summarized measures, in column order.
    public static let metrics = Metric.all.filter(\.summarized)
    /// Digits of the paired differences (points of accuracy).
    static let differenceDecimals = 2

    public var settingNames: [String]
    public var rows: [Row]

    public init(settingNames: [String], rows: [Row]) {
        self.settingNames = settingNames; self.rows = rows
    }

    /// One row per cell of the grid (the cell key without its seed), in order of first appearance.
    /// Not by the setting values: cells whose variant overrides a swept key train alike but stay
    /// separate rows (their runs are repeats, not more seeds). Non-numeric and `nan` values are
    /// left out of the statistics.
    public init(records unsorted: [CellRecord]) {
        let records = unsorted.sorted { $0.index < $1.index }
        var groups: [String: [CellRecord]] = [:]
        var order: [String] = []
        for r in records {
            let cell = Self.cellKeyWithoutSeed(r.key)
            if groups[cell] == nil { order.append(cell) }
            groups[cell, default: []].append(r)
        }
        settingNames = records.first?.settings.map { $0[0] } ?? []
        rows = order.map { cell in
            let members = groups[cell]!
            func number(_ record: CellRecord, _ metric: Metric) -> Double? {
                record.metric(metric.name).flatMap(Double.init).flatMap { $0.isNaN ? nil : $0 }
            }
            var statistics: [Metric: SeedStatistics] = [:]
            for metric in Self.metrics {
                statistics[metric] = SeedStatistics(of: members.compactMap { number($0, metric) })
                    .printed(decimals: metric.decimals)
            }
            var differences: [PairedDifference: SeedStatistics] = [:]
            for difference in PairedDifference.all {
                // The difference of each seed's values as the row table prints them.
                differences[difference] = SeedStatistics(of: members.compactMap { r in difference.value { number(r, $0) } })
                    .printed(decimals: Self.differenceDecimals)
            }
            return Row(settings: members[0].settings.map { $0[1] }, seeds: members.count,
                       ok: members.filter { $0.metric("status") == "ok" }.count, statistics: statistics,
                       differences: differences)
        }
    }

    /// `batch_size=4 seed=1` -> `batch_size=4`; `seed=1` -> ``.
    static func cellKeyWithoutSeed(_ key: String) -> String {
        guard let range = key.range(of: "seed=", options: .backwards) else { return key }
        return String(key[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
    }

    static let statisticSuffixes = ["_mean", "_std", "_ci95"]

    /// The table's columns: `spec`, the settings, `seeds`, `ok`, then `<metric>_mean`, `<metric>_std`,
    /// `<metric>_ci95` for every summarized metric of `metrics`, then the same for every paired difference of
    /// `differences` (by default all of them).
    public static func header(settingNames: [String], metrics: [Metric] = metrics,
                              differences: [PairedDifference] = PairedDifference.all) -> [String] {
        let stems = metrics.map(\.name) + differences.map(\.name)
        return ["spec"] + settingNames + ["seeds", "ok"] + stems.flatMap { stem in statisticSuffixes.map { stem + $0 } }
    }

    /// The summarized metrics and the paired differences with a column in this summary: every one, but one
    /// with a column only where measured (``Metric/columnOnlyWhereMeasured()``) when no row has a mean of it.
    var columns: (metrics: [Metric], differences: [PairedDifference]) {
        (Self.metrics.filter { !$0.hasColumnOnlyWhereMeasured || measures($0) },
         PairedDifference.all.filter { d in
             !d.hasColumnOnlyWhereMeasured || rows.contains { $0.differences[d]?.mean != nil }
         })
    }

    /// `<spec>-summary.csv`.
    public func csv(spec: String) -> String {
        let (metrics, differences) = columns
        return CSV.table(header: Self.header(settingNames: settingNames, metrics: metrics, differences: differences),
                         rows: rows.map { row in
            let none = SeedStatistics(mean: nil, std: nil, ci95: nil)
            return [spec] + row.settings + [String(row.seeds), String(row.ok)]
                + metrics.flatMap { m in (row.statistics[m] ?? none).fields(decimals: m.decimals) }
                + differences.flatMap { d in (row.differences[d] ?? none).fields(decimals: Self.differenceDecimals) }
        })
    }

    /// Reads `<spec>-summary.csv` back (``csv(spec:)``'s inverse, for `bnlab report`). A column this
    /// build does not know is ignored; a summarized metric the file lacks is left unmeasured.
    public init(csv text: String) throws {
        let table = Table(csv: text)
        guard let seedsColumn = table.columnIndex("seeds"), table.columnIndex("ok") == seedsColumn + 1,
              table.header.first == "spec" else {
            throw SummaryFormatError(reason: "the header does not start with spec, the settings, seeds, ok")
        }
        settingNames = Array(table.header[1..<seedsColumn])
        rows = try table.rows.enumerated().map { line, fields in
            guard fields.count == table.header.count,
                  let seeds = Int(fields[seedsColumn]), let ok = Int(fields[seedsColumn + 1]) else {
                throw SummaryFormatError(reason: "line \(line + 2) does not match the header")
            }
            func read(_ stem: String) -> SeedStatistics {
                SeedStatistics(mean: table.number(fields, stem + "_mean"), std: table.number(fields, stem + "_std"),
                               ci95: table.number(fields, stem + "_ci95"))
            }
            var statistics: [Metric: SeedStatistics] = [:]
            for m in Self.metrics { statistics[m] = read(m.name) }
            var differences: [PairedDifference: SeedStatistics] = [:]
            for d in PairedDifference.all { differences[d] = read(d.name) }
            return Row(settings: Array(fields[1..<seedsColumn]), seeds: seeds, ok: ok, statistics: statistics,
                       differences: differences)
        }
    }

    /// The value of setting `name` in `row`; nil when the summary has no such setting.
    public func setting(_ row: Row, _ name: String) -> String? {
        settingNames.firstIndex(of: name).map { row.settings[$0] }
    }

    /// The numeric value of setting `name` in `row`; nil when absent or not a number.
    public func number(_ row: Row, _ name: String) -> Double? {
        setting(row, name).flatMap(Double.init).flatMap { $0.isNaN ? nil : $0 }
    }

    /// Whether any row has a mean for `metric`.
    public func measures(_ metric: Metric) -> Bool { rows.contains { $0.statistics[metric]?.mean != nil } }
}

/// A summary file that is not one bnlab wrote.
public struct SummaryFormatError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
