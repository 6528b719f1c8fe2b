/// One positional argument of a command (`SPEC...`, `NAME`).
public struct ArgumentDeclaration: Equatable, Sendable {
    /// How many command-line words the argument takes. Only a command's last argument may take more
    /// than one.
    public enum Count: Equatable, Sendable {
        /// Exactly one word: `NAME`.
        case one
        /// One word or more: `SPEC...`.
        case oneOrMore
        /// Any number of words, none included: `[FILE...]`.
        case zeroOrMore
    }

    /// The placeholder in usage and help, upper case: `SPEC`.
    public let valueName: String
    /// How many words it takes.
    public let count: Count
    /// One sentence for the help text.
    public let help: String

    /// Declares argument `valueName` taking `count` words.
    public init(_ valueName: String, count: Count = .one, help: String) {
        self.valueName = valueName
        self.count = count
        self.help = help
    }

    /// `SPEC`, `SPEC...` or `[SPEC...]`: how usage and help spell the argument.
    public var label: String {
        switch count {
        case .one: return valueName
        case .oneOrMore: return "\(valueName)..."
        case .zeroOrMore: return "[\(valueName)...]"
        }
    }
}
