import Charts
import Datasets
import Experiment
import Reports
import SpecFormat

/// The readable table and the CSV of a `bnlab bench` run.
enum BenchReport {
    /// Column titles and widths of the text table.
    private static let columns: [(title: String, width: Int)] = [
        ("model", 8), ("threads", 7), ("batch", 5), ("samples/s", 11), ("step ms", 9), ("CPU ms", 9), ("main ms", 9),
        ("spread", 6),
        ("GFLOP/s", 8), ("peak", 6), ("of peak", 7), ("max RSS MiB", 11),
    ]

    static func header() -> String {
        let titles = columns.map { pad($0.title, $0.width) }.joined(separator: "  ")
        return titles + "\n" + String(repeating: "-", count: titles.count)
    }

    /// One line of the text table.
    static func line(_ r: BenchResult) -> String {
        var cells = [r.model.rawValue, String(r.threads), String(r.batchSize)]
        if let reason = r.invalidReason {
            cells += ["n/a: " + reason]
            return zip(cells, columns).map { pad($0, $1.width) }.joined(separator: "  ")
        }
        cells += [CSV.number(r.samplesPerSecond, decimals: 0), CSV.number(r.stepMilliseconds, decimals: 3),
                  CSV.number(r.cpuMillisecondsPerStep, decimals: 3), CSV.number(r.mainCPUMillisecondsPerStep, decimals: 3),
                  CSV.number(100 * r.spread, decimals: 0) + "%", CSV.number(r.achievedGFlops, decimals: 2),
                  CSV.number(r.peakGFlops, decimals: 1), CSV.number(100 * r.peakFraction, decimals: 1) + "%",
                  CSV.number(r.peakMemoryMiB, decimals: 1)]
        return zip(cells, columns).map { pad($0, $1.width) }.joined(separator: "  ")
    }

    static func csv(_ results: [BenchResult]) -> String {
        CSV.table(header: BenchResult.csvHeader, rows: results.map(\.csvFields))
    }

    /// Right-aligns `text` in `width` columns (longer text is kept whole).
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
