/// "Did you mean" suggestions by edit distance.
enum NearestName {
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

    /// The candidate closest to `word`, when it is close enough to be a likely
    /// misspelling: at most `max(1, length / 3)` edits away, where length is
    /// the candidate's (so `lr` admits 1 edit, `batch_size` 3). Ties go to the
    /// earlier candidate.
    static func nearest(to word: String, in candidates: [String]) -> String? {
        let wordLength = word.unicodeScalars.count
        var best: (name: String, distance: Int)? = nil
        for candidate in candidates {
            let length = candidate.unicodeScalars.count
            let allowed = max(1, length / 3)
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
