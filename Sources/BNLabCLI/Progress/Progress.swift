/// The text of bnlab's progress output, as pure functions (the `ProgressReporter` decides when and
/// where to write it).
public enum ProgressFormat {
    /// A duration for people: `0.4s` and `9.9s` (tenths below 10 s), `12s` (below a minute), `1m05s`
    /// (below an hour), `1h02m` (above). Rounded to the nearest unit shown; negative durations count
    /// as 0 and non-finite ones read `--`.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--" }
        let seconds = max(0, seconds)
        let tenths = Int((seconds * 10).rounded())
        if tenths < 100 { return "\(tenths / 10).\(tenths % 10)s" }
        let whole = Int(seconds.rounded())
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(twoDigits(whole % 60))s" }
        let minutes = Int((seconds / 60).rounded())
        return "\(minutes / 60)h\(twoDigits(minutes % 60))m"
    }

    /// Seconds still to go if the remaining cells take as long as the finished ones did:
    /// `elapsed / finished * remaining`. Nil before the first cell finishes (`finished == 0`).
    public static func remainingSeconds(elapsed: Double, finished: Int, remaining: Int) -> Double? {
        guard finished > 0 else { return nil }
        return elapsed / Double(finished) * Double(max(0, remaining))
    }

    /// `remainingSeconds` as `duration` text, or `--` before the first cell finishes.
    public static func eta(elapsed: Double, finished: Int, remaining: Int) -> String {
        remainingSeconds(elapsed: elapsed, finished: finished, remaining: remaining).map(duration) ?? "--"
    }

    /// The live terminal line, without `\r` or escapes, at most `maxLength` characters:
    ///
    ///     [12/144] batch_size=4 momentum=0.1 seed=1 epoch 3/10  elapsed 1m05s  ETA 3m20s
    ///
    /// `cell` (the settings of the cell last heard from) and `epoch` are left out when nil. When the
    /// line is too long the settings are cut and end in `...`; when even the counts and times do not
    /// fit, the settings are dropped and the line is cut at `maxLength`.
    public static func liveLine(
        done: Int, total: Int, cell: String?, epoch: (current: Int, of: Int)?,
        elapsed: Double, eta: String, maxLength: Int
    ) -> String {
        let head = "[\(done)/\(total)]"
        var tail = "elapsed \(duration(elapsed))  ETA \(eta)"
        if let epoch { tail = "epoch \(epoch.current)/\(epoch.of)  " + tail }
        let settings = cell ?? ""
        let full = settings.isEmpty ? "\(head) \(tail)" : "\(head) \(settings) \(tail)"
        if full.count <= maxLength { return full }

        let ellipsis = "..."
        let room = maxLength - head.count - tail.count - 2  // two separating spaces
        if room > ellipsis.count { return "\(head) \(settings.prefix(room - ellipsis.count))\(ellipsis) \(tail)" }
        return String("\(head) \(tail)".prefix(max(0, maxLength)))
    }

    /// The line written off a terminal when a cell finishes:
    ///
    ///     [12/144] batch_size=4 momentum=0.1 seed=1: ok in 2.3s (eval 41.2%, train-mode 97.9%)
    ///
    /// `outcome` is a word such as `ok` or `failed`; `summary` (left out with its parentheses when
    /// empty) is the caller's text.
    public static func finishedCellLine(
        done: Int, total: Int, cell: String, outcome: String, seconds: Double, summary: String
    ) -> String {
        let line = "[\(done)/\(total)] \(cell): \(outcome) in \(duration(seconds))"
        return summary.isEmpty ? line : "\(line) (\(summary))"
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
