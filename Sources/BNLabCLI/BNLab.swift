import Foundation
import Harness

/// The `bnlab` command line (kept as a library so tests can drive it).
public enum BNLab {
    public static let version = "0.1.0"

    /// Runs the command line with `arguments` (without the program name); returns the exit status.
    public static func main(_ arguments: [String]) -> Int32 {
        switch parseCommandLine(arguments) {
        case .help(let text):
            print(text, terminator: "")
            return 0
        case .version:
            print("bnlab \(version)")
            return 0
        case .error(let error):
            Terminal.writeToStandardError(error.description + "\n")
            return UsageError.exitStatus
        case .command(.bench(let bench)):
            return Bench.run(bench)
        case .command:
            Terminal.writeToStandardError("bnlab: '\(arguments[0])' is not implemented yet\n")
            return 1
        }
    }
}
