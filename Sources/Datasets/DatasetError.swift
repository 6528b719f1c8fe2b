/// A diagnostic about a dataset, located in its file: a ``DatasetError`` (the data does not load)
/// or a ``DatasetWarning`` (it loads but looks wrong, e.g. a class with very few samples).
///
/// `description` follows the compiler convention, so editors and terminals can
/// jump to the spot:
///
///     PATH:LINE:COLUMN: error: MESSAGE    (line and column known)
///     PATH:LINE: error: MESSAGE           (line known, column not)
///     PATH: error: MESSAGE                (binary files: the message gives the byte offset)
///
/// (`warning` in place of `error` for a warning.) Lines and columns count from 1; a column is a
/// byte column within its line.
public struct DatasetDiagnostic<Severity: DatasetSeverity>: CustomStringConvertible, Equatable, Sendable {
    /// The file the diagnostic is about (or, for data that has no file, the name of its source).
    public var path: String
    /// 1-based line, for text formats.
    public var line: Int?
    /// 1-based byte column within `line`; ignored when `line` is nil.
    public var column: Int?
    /// What is wrong or looks wrong, quoting the offending text or value.
    public var message: String

    /// A diagnostic at `path` (and, for text, `line`/`column`).
    public init(path: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    /// `PATH:LINE:COLUMN: error: MESSAGE` (or `warning`), leaving out the parts that are unknown.
    public var description: String {
        var location = path
        if let line {
            location += ":\(line)"
            if let column { location += ":\(column)" }
        }
        return "\(location): \(Severity.word): \(message)"
    }
}

/// The severity of a ``DatasetDiagnostic``, as the word its description carries.
public protocol DatasetSeverity: Sendable {
    static var word: String { get }
}

/// The data does not load: `error`.
public enum DatasetErrorSeverity: DatasetSeverity {
    public static let word = "error"
}

/// The data loads but looks wrong: `warning`.
public enum DatasetWarningSeverity: DatasetSeverity {
    public static let word = "warning"
}

/// An error found while reading or building a dataset, located in its file; it is thrown.
public typealias DatasetError = DatasetDiagnostic<DatasetErrorSeverity>

/// A remark about a dataset that loads but looks wrong, located like a ``DatasetError``; it is
/// reported, never thrown.
public typealias DatasetWarning = DatasetDiagnostic<DatasetWarningSeverity>

extension DatasetDiagnostic: Error where Severity == DatasetErrorSeverity {}
