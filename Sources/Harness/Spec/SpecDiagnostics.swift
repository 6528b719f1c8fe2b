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

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }
}

/// A spec the parser refuses, rendered `FILE:LINE:COLUMN: error: MESSAGE`
/// (the format compilers use, so editors can jump to it).
///
/// The message names the offending token in single quotes and, where one
/// exists, the nearest valid spelling or the allowed range.
public struct SpecError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The spec file's path as given to the parser.
    public let file: String
    /// Where the offending token starts.
    public let location: SourceLocation
    /// What is wrong, without the location prefix.
    public let message: String

    /// An error at `location` of `file`.
    public init(file: String, location: SourceLocation, message: String) {
        self.file = file
        self.location = location
        self.message = message
    }

    /// `FILE:LINE:COLUMN: error: MESSAGE`.
    public var description: String { "\(file):\(location): error: \(message)" }
}

/// A setting the parser accepts but that is probably a mistake, rendered
/// `FILE:LINE:COLUMN: warning: MESSAGE`.
public struct SpecWarning: CustomStringConvertible, Hashable, Sendable {
    /// The spec file's path as given to the parser.
    public let file: String
    /// Where the token that triggered the warning starts.
    public let location: SourceLocation
    /// What looks wrong, without the location prefix.
    public let message: String

    /// A warning at `location` of `file`.
    public init(file: String, location: SourceLocation, message: String) {
        self.file = file
        self.location = location
        self.message = message
    }

    /// `FILE:LINE:COLUMN: warning: MESSAGE`.
    public var description: String { "\(file):\(location): warning: \(message)" }
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
