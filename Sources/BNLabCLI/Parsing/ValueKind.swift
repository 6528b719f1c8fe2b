/// What an option's value must look like, and what it becomes once parsed.
public enum ValueKind: Equatable, Sendable {
    /// A decimal integer `>= minimum` (`--jobs 4`).
    case integer(minimum: Int)
    /// Comma-separated decimal integers, each `>= minimum`, at least one (`--threads 1,2`).
    case integerList(minimum: Int)
    /// `K/N` with `1 <= K <= N` (`--shard 2/4`), see `Shard`.
    case shard
    /// A non-empty path (`--out Results`).
    case path
    /// Any non-empty text (`--cell "batch_size=4 seed=0"`).
    case text
    /// One of a fixed set of words (`--models flagship`).
    case choice([String])

    /// The placeholder shown in usage and help when the declaration names none: `N`, `LIST`, `K/N`,
    /// `DIR`, or the choices joined by `|`.
    var defaultValueName: String {
        switch self {
        case .integer: return "N"
        case .integerList: return "LIST"
        case .shard: return "K/N"
        case .path: return "DIR"
        case .text: return "TEXT"
        case .choice(let words): return words.joined(separator: "|")
        }
    }

    /// What a valid value looks like, for the end of an `invalid value` message.
    var expectation: String {
        switch self {
        case .integer(let minimum): return "an integer >= \(minimum)"
        case .integerList(let minimum): return "comma-separated integers >= \(minimum)"
        case .shard: return "K/N with integers 1 <= K <= N"
        case .path: return "a non-empty path"
        case .text: return "a non-empty text"
        case .choice(let words): return "one of " + words.map { "'\($0)'" }.joined(separator: ", ")
        }
    }

    /// The typed value of `text`, or nil when `text` is not of this kind.
    func parse(_ text: String) -> OptionValue? {
        switch self {
        case .integer(let minimum):
            guard let number = Int(text), number >= minimum else { return nil }
            return .integer(number)
        case .integerList(let minimum):
            let items = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
            guard !items.isEmpty, items.allSatisfy({ $0 != nil && $0! >= minimum }) else { return nil }
            return .integers(items.map { $0! })
        case .shard:
            return Shard(parsing: text).map(OptionValue.shard)
        case .path, .text:
            return text.isEmpty ? nil : .text(text)
        case .choice(let words):
            return words.contains(text) ? .text(text) : nil
        }
    }
}

/// A parsed option value; `ParsedArguments` hands it out typed.
public enum OptionValue: Equatable, Sendable {
    /// A flag that was given.
    case flag
    /// The value of a `ValueKind.integer` option.
    case integer(Int)
    /// The value of a `ValueKind.integerList` option.
    case integers([Int])
    /// The value of a `ValueKind.shard` option.
    case shard(Shard)
    /// The value of a `ValueKind.path` or `ValueKind.choice` option.
    case text(String)
}
