@testable import BNLabCLI
import XCTest

/// Parses `bnlab <args>` and returns what `extract` finds in the outcome, failing the test when it
/// finds nothing (the outcome was of another kind).
private func expect<T>(
    _ args: [String], _ kind: String, file: StaticString, line: UInt, _ extract: (ParseOutcome) -> T?
) -> T? {
    let outcome = parseCommandLine(args)
    let found = extract(outcome)
    if found == nil { XCTFail("expected \(kind) from \(args), got \(outcome)", file: file, line: line) }
    return found
}

/// Parses `bnlab <args>` and returns the command, failing the test on any other outcome.
func parsedCommand(_ args: [String], file: StaticString = #filePath, line: UInt = #line) -> Command? {
    expect(args, "a command", file: file, line: line) { if case .command(let c) = $0 { return c } else { return nil } }
}

/// Parses `bnlab <args>` and returns the usage error, failing the test on any other outcome.
func usageError(_ args: [String], file: StaticString = #filePath, line: UInt = #line) -> UsageError? {
    expect(args, "an error", file: file, line: line) { if case .error(let e) = $0 { return e } else { return nil } }
}

/// The help text that `bnlab <args>` shows, failing the test on any other outcome.
func helpText(_ args: [String], file: StaticString = #filePath, line: UInt = #line) -> String? {
    expect(args, "help", file: file, line: line) { if case .help(let text) = $0 { return text } else { return nil } }
}
