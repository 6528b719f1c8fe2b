import Harness

/// The `bnlab` command line (kept as a library so tests can drive it).
public enum BNLab {
    public static let version = "0.1.0"

    /// Runs the command line with `arguments` (without the program name); returns the exit status.
    public static func main(_ arguments: [String]) -> Int32 {
        print("bnlab \(version)")
        return 0
    }
}
