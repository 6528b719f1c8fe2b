/// An error found while reading or building a dataset, located in its file.
///
/// `description` follows the compiler convention, so editors and terminals can
/// jump to the spot:
///
///     PATH:LINE:COLUMN: error: MESSAGE    (line and column known)
///     PATH:LINE: error: MESSAGE           (line known, column not)
///     PATH: error: MESSAGE                (binary files: the message gives the byte offset)
///
/// Lines and columns count from 1; a column is a byte column within its line.
public struct DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file the error is in (or, for data that has no file, the name of its source).
    public var path: String
    /// 1-based line, for text formats.
    public var line: Int?
    /// 1-based byte column within `line`; ignored when `line` is nil.
    public var column: Int?
    /// What is wrong, quoting the offending text or value.
    public var message: String

    /// An error at `path` (and, for text, `line`/`column`).
    public init(path: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    /// `PATH:LINE:COLUMN: error: MESSAGE`, leaving out the parts that are unknown.
    public var description: String { "\(datasetLocation(path, line, column)): error: \(message)" }
}

/// A remark about a dataset that loads but looks wrong (e.g. a class with very few samples),
/// rendered like ``DatasetError`` with `warning`: `PATH:LINE:COLUMN: warning: MESSAGE`.
public struct DatasetWarning: CustomStringConvertible, Equatable, Sendable {
    /// The file the warning is about.
    public var path: String
    /// 1-based line, for text formats.
    public var line: Int?
    /// 1-based byte column within `line`; ignored when `line` is nil.
    public var column: Int?
    /// What looks wrong, quoting the offending text or value.
    public var message: String

    /// A warning at `path` (and, for text, `line`/`column`).
    public init(path: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    /// `PATH:LINE:COLUMN: warning: MESSAGE`, leaving out the parts that are unknown.
    public var description: String { "\(datasetLocation(path, line, column)): warning: \(message)" }
}

/// `PATH:LINE:COLUMN`, `PATH:LINE` or `PATH`.
private func datasetLocation(_ path: String, _ line: Int?, _ column: Int?) -> String {
    var location = path
    if let line {
        location += ":\(line)"
        if let column { location += ":\(column)" }
    }
    return location
}
