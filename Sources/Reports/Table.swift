import Charts
import Datasets
import Experiment
import SpecFormat
/// A CSV table read back into memory: a header and rows of text fields.
public struct Table: Equatable, Sendable {
    public var header: [String]
    public var rows: [[String]]

    public init(header: [String], rows: [[String]]) {
        self.header = header
        self.rows = rows
    }

    /// Parses CSV text written by ``CSV`` (one record per line).
    public init(csv text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        header = lines.first.map { CSV.parseLine($0) } ?? []
        rows = lines.dropFirst().map { CSV.parseLine($0) }
    }

    public func columnIndex(_ name: String) -> Int? { header.firstIndex(of: name) }

    /// The field of `row` in column `name`; nil if the column is absent.
    public func value(_ row: [String], _ name: String) -> String? {
        guard let i = columnIndex(name), i < row.count else { return nil }
        return row[i]
    }

    /// The numeric field of `row` in column `name`; nil when absent, empty or not a number.
    public func number(_ row: [String], _ name: String) -> Double? {
        guard let text = value(row, name), let x = Double(text), !x.isNaN else { return nil }
        return x
    }
}
