import Harness

/// The `bnlab` command line (kept as a library so tests can drive it).
public enum BNLab {
    /// Runs the command line with `arguments` (without the program name); returns the exit status.
    public static func main(_ arguments: [String]) -> Int32 {
        print("bnlab \(HarnessInfo.version)")
        return 0
    }
}
