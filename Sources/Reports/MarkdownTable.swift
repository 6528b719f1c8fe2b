import Charts
import Experiment
import SpecFormat
/// A GitHub-flavoured markdown table written from rows of strings, columns padded so the raw text lines up:
///
///     | batch size | eval accuracy (%) |
///     |-----------:|------------------:|
///     |          1 |              34.2 |
///
/// Cells have `|` escaped as `\|` and line breaks replaced by spaces, so any text stays in its cell.
public enum MarkdownTable {
    /// How a column's cells sit: `:---`, `---:` or `:---:` in the delimiter row.
    public enum Alignment: Sendable, Equatable {
        case left, right, center
    }

    /// The table as markdown text ending in a newline. `alignments` has one entry per column, or is empty
    /// for all left-aligned. Every row must have as many cells as the header; a mismatch is a programming
    /// error and stops with the row number and both counts.
    public static func render(header: [String], rows: [[String]], alignments: [Alignment] = []) -> String {
        precondition(alignments.isEmpty || alignments.count == header.count,
                     "MarkdownTable: \(alignments.count) alignments for \(header.count) columns")
        for (number, row) in rows.enumerated() {
            precondition(row.count == header.count,
                         "MarkdownTable: row \(number + 1) has \(row.count) cells, the header has \(header.count)")
        }
        let aligns = alignments.isEmpty ? Array(repeating: .left, count: header.count) : alignments
        let cells = ([header] + rows).map { $0.map(escaped) }
        let widths = header.indices.map { column in max(3, cells.map { $0[column].count }.max() ?? 0) }

        func line(_ row: [String]) -> String {
            "| " + row.indices.map { padded(row[$0], to: widths[$0], aligns[$0]) }.joined(separator: " | ") + " |"
        }
        let delimiter = "|" + header.indices.map { column -> String in
            let dashes = String(repeating: "-", count: widths[column])
            switch aligns[column] {
            case .left: return ":" + dashes + "-"
            case .right: return "-" + dashes + ":"
            case .center: return ":" + dashes + ":"
            }
        }.joined(separator: "|") + "|"
        return ([line(cells[0]), delimiter] + cells.dropFirst().map(line)).joined(separator: "\n") + "\n"
    }

    /// `cell` with `|` written `\|` and each line break (LF, CR LF, ...) a space.
    static func escaped(_ cell: String) -> String {
        var out = ""
        for character in cell {
            switch character {
            case "|": out += "\\|"
            case _ where character.isNewline: out += " "
            default: out.append(character)
            }
        }
        return out
    }

    /// `cell` filled with spaces to `width` characters on the side(s) `alignment` calls for.
    static func padded(_ cell: String, to width: Int, _ alignment: Alignment) -> String {
        let space = width - cell.count
        switch alignment {
        case .left: return cell + String(repeating: " ", count: space)
        case .right: return String(repeating: " ", count: space) + cell
        case .center:
            return String(repeating: " ", count: space / 2) + cell + String(repeating: " ", count: space - space / 2)
        }
    }
}
