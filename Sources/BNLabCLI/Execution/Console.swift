import Foundation

/// Where the command line writes: results and requested listings to stdout,
/// diagnostics and progress to stderr (never results).
enum Console {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func err(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// A failure that ends a command with a message and an exit status
/// (2 = bad usage or input, 1 = a run that did not complete).
struct CommandFailure: Error {
    let message: String
    let status: Int32
    static func input(_ message: String) -> CommandFailure { CommandFailure(message: message, status: 2) }
    static func run(_ message: String) -> CommandFailure { CommandFailure(message: message, status: 1) }
}
