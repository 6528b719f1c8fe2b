import SpecFormat

/// What the whole command line asks for.
public enum ParseOutcome: Equatable, Sendable {
    /// Run this command.
    case command(Command)
    /// Print this help text to standard output and exit with status 0.
    case help(String)
    /// Print the version and exit with status 0.
    case version
    /// Print the error (`UsageError.description`) to standard error and exit with status 2.
    case error(UsageError)
}

/// The summary paragraph of `bnlab --help`.
let bnlabSummary = "bnlab reproduces the BatchNorm small-batch failure and measures its remedies: "
    + "it trains the grids of experiment specs and writes result tables."

/// Parses bnlab's arguments (without the program name).
///
/// `bnlab --help`, `bnlab -h` and `bnlab help` give the top-level help; `bnlab help COMMAND` and
/// `bnlab COMMAND --help` give the command's help; `bnlab --version` the version. An unknown command
/// or option is refused with the nearest valid spelling when one is close.
public func parseCommandLine(_ args: [String]) -> ParseOutcome {
    guard let first = args.first else { return .error(UsageError("missing command", command: nil)) }
    let rest = Array(args.dropFirst())
    switch first {
    case "--help", "-h":
        return rest.isEmpty ? .help(topLevelHelp()) : unexpected(rest[0])
    case "--version":
        return rest.isEmpty ? .version : unexpected(rest[0])
    case "help":
        guard let name = rest.first else { return .help(topLevelHelp()) }
        if rest.count > 1 { return unexpected(rest[1]) }
        return entry(named: name).map { .help(CommandHelp.text($0.declaration)) } ?? .error(unknownCommand(name))
    default:
        guard let entry = entry(named: first) else { return .error(unknownCommand(first)) }
        do {
            switch try entry.declaration.parse(rest) {
            case .help: return .help(CommandHelp.text(entry.declaration))
            case .arguments(let parsed): return .command(entry.make(parsed))
            }
        } catch {
            return .error(error)
        }
    }
}

/// The `bnlab --help` text.
func topLevelHelp() -> String {
    CommandHelp.topLevel(summary: bnlabSummary, commands: Command.declarations)
}

private func entry(named name: String) -> Command.Entry? {
    Command.table.first { $0.declaration.name == name }
}

/// An unknown command word, or an option other than `--help`/`--version` before any command.
private func unknownCommand(_ word: String) -> UsageError {
    let isOption = word.hasPrefix("-") && word != "-"
    let candidates = isOption ? ["--help", "--version"] : Command.declarations.map(\.name) + ["help"]
    var message = isOption ? "unknown option '\(word)'" : "unknown command '\(word)'"
    if let nearest = NearestName.nearest(to: word, in: candidates) {
        message += "; did you mean '\(nearest)'?"
    }
    return UsageError(message, command: nil)
}

private func unexpected(_ word: String) -> ParseOutcome {
    .error(UsageError("unexpected argument '\(word)'", command: nil))
}
