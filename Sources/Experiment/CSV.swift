import Datasets
import SpecFormat
/// RFC 4180 CSV text: comma-separated, CRLF-free `\n` line ends (accepted by
/// LibreOffice and Excel), fields quoted only when they hold a comma, a quote,
/// or a line break (quotes doubled). Numbers are formatted by ``CSV/number(_:decimals:)``
/// with a `.` decimal point whatever the locale.
public enum CSV {
    public static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\n"
    }

    public static func table(header: [String], rows: [[String]]) -> String {
        line(header) + rows.map(line).joined()
    }

    /// Fixed-point text with `decimals` digits; `nil` -> empty (not measured), NaN -> `nan`,
    /// infinities -> `inf` / `-inf`. Locale-independent (no Foundation formatter).
    public static func number(_ x: Double?, decimals: Int) -> String {
        guard let x else { return "" }
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (abs(x) * scale).rounded(.toNearestOrEven)
        guard rounded < 1e17 else { return "\(x)" }
        let integer = UInt64(rounded)
        let whole = integer / UInt64(scale), fraction = integer % UInt64(scale)
        var text = String(whole)
        if decimals > 0 {
            let digits = String(fraction)
            text += "." + String(repeating: "0", count: decimals - digits.count) + digits
        }
        return (x < 0 && integer != 0 ? "-" : "") + text
    }

    /// ``number(_:decimals:)`` with a `+` before a positive value (a difference: `+31.0`, `-1.5`, `0.0`).
    public static func signedNumber(_ x: Double, decimals: Int) -> String {
        (x > 0 ? "+" : "") + number(x, decimals: decimals)
    }

    /// Splits one CSV line into fields (quotes honoured); used to read tables back.
    public static func parseLine(_ line: Substring) -> [String] {
        var fields: [String] = []
        var current = ""
        var inQuotes = false
        var iterator = line.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if c == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { current.append("\"") } else { inQuotes = false; pending = next }
                    } else { inQuotes = false }
                } else { current.append(c) }
            } else if c == "\"" {
                inQuotes = true
            } else if c == "," {
                fields.append(current); current = ""
            } else {
                current.append(c)
            }
        }
        fields.append(current)
        return fields
    }
}
