/// A command line that bnlab cannot accept: what is wrong, and which command it was for.
///
/// The CLI prints it to standard error as
///
///     bnlab: error: <message>
///     Run 'bnlab <command> --help'.
///
/// and exits with status 2 (`UsageError.exitStatus`).
public struct UsageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The exit status of a command line that does not parse: 2, as for most Unix tools.
    public static let exitStatus: Int32 = 2

    /// What is wrong, quoting the offending token: `unknown option '--job'; did you mean '--jobs'?`.
    public let message: String
    /// The command being parsed (`run`, `export-data`); nil for an error before a command was chosen.
    public let command: String?

    /// Creates an error about `command` (nil: the top level).
    public init(_ message: String, command: String?) {
        self.message = message
        self.command = command
    }

    /// The line that points to the relevant help: `Run 'bnlab run --help'.` or `Run 'bnlab --help'.`.
    public var hint: String {
        if let command { return "Run 'bnlab \(command) --help'." }
        return "Run 'bnlab --help'."
    }

    /// The two lines the CLI prints to standard error, without a final newline.
    public var description: String { "bnlab: error: \(message)\n\(hint)" }
}
