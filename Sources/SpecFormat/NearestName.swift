/// "Did you mean" suggestions, for unknown spec keys and values and for unknown commands and options.
///
/// One rule everywhere: a candidate is suggested for an unknown `word` when
/// - `word` (two characters or more) is the beginning of that candidate and of no other, or else
/// - it is the candidate nearest to `word` by edit distance, and at most
///   `min(length - 1, max(2, length / 3))` edits away, where length is the candidate's: `lr` admits
///   1 edit, `jobs` and `quiet` 2 (a swap of two letters is two edits), `batch_size` 3. Ties go to the
///   earlier candidate.
///
/// Lengths and edits count Unicode scalars.
public enum NearestName {
    /// Levenshtein distance between `a` and `b` over Unicode scalars
    /// (insertions, deletions and substitutions each cost 1).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let substitution = previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[y.count]
    }

    /// The candidate that `word` most likely misspells (see the rule above), or nil when none is close.
    public static func nearest(to word: String, in candidates: [String]) -> String? {
        let wordLength = word.unicodeScalars.count
        if wordLength >= 2 {
            let extensions = candidates.filter { $0.unicodeScalars.starts(with: word.unicodeScalars) }
            if extensions.count == 1 { return extensions[0] }
        }
        var best: (name: String, distance: Int)? = nil
        for candidate in candidates {
            let length = candidate.unicodeScalars.count
            let allowed = min(length - 1, max(2, length / 3))
            // The length difference is a lower bound of the distance: skip long junk cheaply.
            guard abs(length - wordLength) <= allowed else { continue }
            let distance = editDistance(word, candidate)
            if distance <= allowed, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        return best?.name
    }

    /// `; did you mean 'X'?` for the nearest candidate, or an empty string.
    static func suggestion(for word: String, in candidates: [String]) -> String {
        guard let name = nearest(to: word, in: candidates) else { return "" }
        return "; did you mean '\(name)'?"
    }
}
