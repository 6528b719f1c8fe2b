import SpecFormat

/// What parsing one command's words gives when it succeeds.
public enum ArgumentParseResult: Equatable, Sendable {
    /// The words, sorted and typed.
    case arguments(ParsedArguments)
    /// `--help` or `-h` was given (before any `--`): show the command's help instead of running it.
    case help
}

extension CommandDeclaration {
    /// Parses the words after the command name.
    ///
    /// Rules: options and positional words may be interleaved; `--name value` and `--name=value` are
    /// the same; a word that starts with `-` (other than `-` itself and a negative number) is never
    /// taken as an option's value, so `--jobs --quiet` is a missing value; after `--` every word is
    /// positional; each option may be given once; `--help`/`-h` before `--` wins over any error.
    ///
    /// - Throws: `UsageError` naming this command, for the first problem found (options in command-line
    ///   order, then positional counts, then required options).
    public func parse(_ words: [String]) throws(UsageError) -> ArgumentParseResult {
        let optionWords = words.prefix { $0 != "--" }
        if optionWords.contains(where: { $0 == "--help" || $0 == "-h" }) { return .help }

        var values: [String: OptionValue] = [:]
        var positionals: [String] = []
        var index = 0
        var optionsEnded = false
        while index < words.count {
            let word = words[index]
            index += 1
            if optionsEnded || !Self.looksLikeOption(word) {
                positionals.append(word)
                continue
            }
            if word == "--" {
                optionsEnded = true
                continue
            }
            let (spelling, inlineValue) = Self.split(word)
            let option = try resolve(spelling)
            guard values[option.name] == nil else {
                throw error("option '--\(option.name)' is given more than once")
            }
            switch option.kind {
            case .flag:
                guard inlineValue == nil else {
                    throw error("option '--\(option.name)' takes no value (got '\(word)')")
                }
                values[option.name] = .flag
            case .value(let valueKind, _):
                var text = inlineValue
                if text == nil, index < words.count, Self.canBeValue(words[index]) {
                    text = words[index]
                    index += 1
                }
                guard let text else { throw error("missing value for option '\(option.label)'") }
                guard let value = valueKind.parse(text) else {
                    throw error("invalid value '\(text)' for option '\(option.label)': expected \(valueKind.expectation)")
                }
                values[option.name] = value
            }
        }
        let arguments = try assign(positionals)
        try applyDefaults(&values)
        return .arguments(ParsedArguments(declaration: self, options: values, arguments: arguments))
    }

    /// The declared option that `spelling` (`--jobs`, `-jobs`) names; `--help=...` lands here too.
    private func resolve(_ spelling: String) throws(UsageError) -> OptionDeclaration {
        let name = String(spelling.drop { $0 == "-" })
        if spelling.hasPrefix("--"), let option = option(named: name) { return option }
        if spelling == "--help" { return .flag("help", help: "") }
        var message = "unknown option '\(spelling)'"
        if let nearest = NearestName.nearest(to: name, in: options.map(\.name) + ["help"]) {
            message += "; did you mean '--\(nearest)'?"
        }
        throw error(message)
    }

    /// Hands the positional words to the declared arguments in order; the last may take the rest.
    private func assign(_ positionals: [String]) throws(UsageError) -> [String: [String]] {
        var remaining = positionals[...]
        var assigned: [String: [String]] = [:]
        for argument in arguments {
            switch argument.count {
            case .one:
                guard let word = remaining.popFirst() else { throw error("missing argument \(argument.valueName)") }
                assigned[argument.valueName] = [word]
            case .oneOrMore, .zeroOrMore:
                if argument.count == .oneOrMore && remaining.isEmpty {
                    throw error("missing argument \(argument.valueName)")
                }
                assigned[argument.valueName] = Array(remaining)
                remaining = []
            }
        }
        if let extra = remaining.first { throw error("unexpected argument '\(extra)'") }
        return assigned
    }

    /// Fills in `.value` defaults of options not given; refuses a missing required option.
    private func applyDefaults(_ values: inout [String: OptionValue]) throws(UsageError) {
        for option in options where values[option.name] == nil {
            guard case .value(let valueKind, _) = option.kind else { continue }
            switch option.defaultValue {
            case .required: throw error("missing option '\(option.label)'")
            case .value(let text): values[option.name] = valueKind.parse(text)
            case .absent: break
            }
        }
    }

    private func error(_ message: String) -> UsageError { UsageError(message, command: name) }

    /// `--x`, `-x` and `--`, but neither `-` alone (a conventional file name) nor text without a dash.
    private static func looksLikeOption(_ word: String) -> Bool {
        word.hasPrefix("-") && word != "-"
    }

    /// Whether `word` may follow a valued option as its value: not an option, or a negative number.
    private static func canBeValue(_ word: String) -> Bool {
        !looksLikeOption(word) || Int(word) != nil
    }

    /// `--jobs=4` -> (`--jobs`, `4`); `--jobs` -> (`--jobs`, nil). Only the first `=` splits.
    private static func split(_ word: String) -> (spelling: String, value: String?) {
        guard let equals = word.firstIndex(of: "=") else { return (word, nil) }
        return (String(word[..<equals]), String(word[word.index(after: equals)...]))
    }
}
