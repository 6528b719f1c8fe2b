/// Where a token sits in a spec file: 1-based line and 1-based byte column.
///
/// Columns count bytes, not characters, so a column is exact for every file
/// (including one whose bytes are not valid UTF-8); for ASCII text the two agree.
/// A tab counts as one column.
public struct SourceLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// 1-based line number.
    public let line: Int
    /// 1-based byte column.
    public let column: Int

    /// A location at `line`:`column` (both 1-based).
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// The start of the file: where errors about the whole file point.
    public static let fileStart = SourceLocation(line: 1, column: 1)

    /// `LINE:COLUMN`.
    public var description: String { "\(line):\(column)" }

    /// File order: by line, then by column.
    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }
}

/// A located message about a spec file, rendered `FILE:LINE:COLUMN: SEVERITY: MESSAGE`
/// (the format compilers use, so editors can jump to it).
public struct SpecDiagnostic: Hashable, Sendable, CustomStringConvertible {
    /// Whether the spec is refused (`error`) or accepted with a remark (`warning`).
    public enum Severity: String, Hashable, Sendable {
        case error, warning
    }

    /// Refused or accepted with a remark.
    public let severity: Severity
    /// The spec file's path as given to the parser.
    public let file: String
    /// Where the offending token starts.
    public let location: SourceLocation
    /// What is wrong, without the location prefix; the offending token in single quotes.
    public let message: String

    /// A diagnostic of `severity` at `location` of `file`.
    public init(_ severity: Severity, file: String, location: SourceLocation, message: String) {
        self.severity = severity
        self.file = file
        self.location = location
        self.message = message
    }

    /// `FILE:LINE:COLUMN: SEVERITY: MESSAGE`.
    public var description: String { "\(file):\(location): \(severity.rawValue): \(message)" }
}

/// A setting that the parser accepts but that is probably a mistake, e.g.
/// `t.spec:3:10: warning: momentum 0.9 weights the NEW batch by 0.9 in PyTorch's convention; ...`.
public typealias SpecWarning = SpecDiagnostic

/// A spec the parser refuses, rendered `FILE:LINE:COLUMN: error: MESSAGE`.
/// The message names the offending token in single quotes and, where one
/// exists, the nearest valid spelling, the allowed range or the valid choices.
public struct SpecError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The error as a diagnostic of severity `.error`.
    public let diagnostic: SpecDiagnostic

    /// An error at `location` of `file`.
    public init(file: String, location: SourceLocation, message: String) {
        diagnostic = SpecDiagnostic(.error, file: file, location: location, message: message)
    }

    /// Where the offending token starts.
    public var location: SourceLocation { diagnostic.location }
    /// What is wrong, without the location prefix.
    public var message: String { diagnostic.message }
    /// `FILE:LINE:COLUMN: error: MESSAGE`.
    public var description: String { diagnostic.description }
}

/// The parser's internal error: a location and a message, without the file
/// name (``SpecParser`` adds it when it turns this into a ``SpecError``).
struct SpecProblem: Error {
    let location: SourceLocation
    let message: String

    init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }
}

/// Renders a token for a message: in single quotes, control characters
/// escaped, long tokens shortened so that a message stays one readable line.
func quoted(_ text: String) -> String {
    let limit = 64
    var out = ""
    var count = 0
    for scalar in text.unicodeScalars {
        if count == limit {
            out += "..."
            break
        }
        if scalar.value < 0x20 || scalar.value == 0x7F {
            out += "\\u{\(String(scalar.value, radix: 16))}"
        } else {
            out.unicodeScalars.append(scalar)
        }
        count += 1
    }
    return "'\(out)'"
}
