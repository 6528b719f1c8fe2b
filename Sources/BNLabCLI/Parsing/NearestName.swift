/// Spelling suggestions for unknown options and commands ("did you mean ...?").
enum NearestName {
    /// The Levenshtein distance between `a` and `b`: the fewest single-character insertions, deletions
    /// and substitutions that turn one into the other.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        // previous[j] = distance between a[..<i-1] and b[..<j]; rolled one row at a time.
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// The candidate that `typed` most likely misspells, or nil when none is close.
    ///
    /// A candidate is close when `typed` (two characters or more) is a prefix of it, or when the edit
    /// distance is at most `max(2, candidate.count / 3)`; the smallest distance wins, ties go to the
    /// earlier candidate.
    static func suggestion(for typed: String, among candidates: [String]) -> String? {
        if typed.count >= 2 {
            let extensions = candidates.filter { $0.hasPrefix(typed) }
            if extensions.count == 1 { return extensions[0] }
        }
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(typed, candidate)
            guard distance <= max(2, candidate.count / 3) else { continue }
            if best == nil || distance < best!.distance { best = (candidate, distance) }
        }
        return best?.name
    }
}
