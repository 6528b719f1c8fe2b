/// The value words of one occurrence of a setting (a line `key value...`, one
/// value of a `sweep`, or one `key=value` of `quick`), handed to the key's
/// parser in ``SpecKeyTable``.
struct SettingInput {
    /// The key as written, for the "needs a value" error.
    let key: SpecToken
    /// The words after the key.
    let words: [SpecToken]
    /// The spec file's directory ("" for the current one): relative paths are resolved against it.
    let directory: String
    /// Warnings the parser raised; ``SpecParser`` adds the file name.
    var warnings: [SpecProblem] = []

    /// The one value word; refuses none and more than one.
    func single() throws -> SpecToken {
        guard let first = words.first else {
            throw SpecProblem(key.location, "\(quoted(key.text)) needs a value")
        }
        if words.count > 1 {
            let sweepable = SpecKeyTable.byName[key.text]?.sweepable == true
            let hint = " (to try several, write 'sweep \(key.text) \(words.map(\.text).joined(separator: " "))')"
            throw SpecProblem(words[1].location, "\(key.text) takes one value; unexpected \(quoted(words[1].text))"
                              + (sweepable ? hint : ""))
        }
        return first
    }

    /// The first value word (a kind such as `cnn`); refuses none.
    func first() throws -> SpecToken {
        guard let first = words.first else {
            throw SpecProblem(key.location, "\(quoted(key.text)) needs a value")
        }
        return first
    }

    /// The words after the first, read as `name=value` with names from `allowed`.
    /// `context` names the owner in messages (`optimizer sgd`).
    func keywords(_ context: String, allowed: [String]) throws -> KeywordArguments {
        try KeywordArguments(words.dropFirst(), context: context, allowed: allowed, anchor: first())
    }

    /// Every word read as `name=value` (a setting made only of keywords, like `renorm`).
    func keywordsOnly(_ context: String, allowed: [String]) throws -> KeywordArguments {
        guard !words.isEmpty else {
            throw SpecProblem(key.location, "\(quoted(key.text)) needs a value: \(allowed.map { "\($0)=..." }.joined(separator: " "))")
        }
        return try KeywordArguments(words[...], context: context, allowed: allowed, anchor: key)
    }

    /// Records a warning at `token`.
    mutating func warn(_ token: SpecToken, _ message: String) {
        warnings.append(SpecProblem(token.location, message))
    }

    /// `path` resolved against the spec file's directory (absolute paths stay).
    func resolve(_ path: SpecToken) throws -> String {
        guard !path.text.isEmpty else {
            throw SpecProblem(path.location, "path must not be empty")
        }
        if path.text.hasPrefix("/") || directory.isEmpty { return path.text }
        return directory + "/" + path.text
    }
}

/// The `name=value` words of a setting: unknown names, repeated names and
/// words without `=` are refused where they stand.
struct KeywordArguments {
    private var values: [String: SpecToken] = [:]
    private let context: String
    private let anchor: SpecToken

    /// Reads `words`; a name outside `allowed` is refused with `refusal(name, value)`
    /// when that gives a message, else as unknown with the nearest allowed name.
    init(_ words: ArraySlice<SpecToken>, context: String, allowed: [String], anchor: SpecToken,
         refusal: (_ name: String, _ value: SpecToken) -> String? = { _, _ in nil }) throws {
        self.context = context
        self.anchor = anchor
        var names: [String: SpecToken] = [:]
        for word in words {
            guard let (name, value) = word.splitKeyword() else {
                throw SpecProblem(word.location, "\(context): expected name=value, got \(quoted(word.text))")
            }
            let nameToken = SpecToken(text: name, location: word.location)
            guard allowed.contains(name) else {
                if let message = refusal(name, value) { throw SpecProblem(word.location, message) }
                let hint = NearestName.suggestion(for: name, in: allowed)
                throw SpecProblem(word.location, "unknown keyword \(quoted(name)) for \(context)"
                                  + (hint.isEmpty ? " (allowed: \(allowed.joined(separator: ", ")))" : hint))
            }
            if let first = names[name] {
                throw SpecProblem(word.location, "keyword \(quoted(name)) given twice for \(context)"
                                  + " (first at column \(first.location.column))")
            }
            names[name] = nameToken
            values[name] = value
        }
    }

    /// The value of `name`, if given.
    func optional(_ name: String) -> SpecToken? { values[name] }

    /// The value of `name`; refuses its absence at the setting's kind word.
    func required(_ name: String) throws -> SpecToken {
        guard let value = values[name] else {
            throw SpecProblem(anchor.location, "\(context) needs \(name)=...")
        }
        return value
    }
}
