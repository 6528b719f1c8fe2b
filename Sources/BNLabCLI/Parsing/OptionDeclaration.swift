/// One `--name` option of a command: its spelling, what it takes, its help line and its default.
public struct OptionDeclaration: Equatable, Sendable {
    /// What the option takes after its name.
    public enum Kind: Equatable, Sendable {
        /// Nothing: `--quiet`. Giving it a value (`--quiet=yes`) is an error.
        case flag
        /// One value, as `--jobs 4` or `--jobs=4`.
        case value(ValueKind, valueName: String)
    }

    /// What happens when a valued option is not given.
    public enum Default: Equatable, Sendable {
        /// The option must be given; usage shows it without brackets.
        case required
        /// This text is parsed as if given, and shown as `(default: <text>)`.
        case value(String)
        /// The option has no value (the typed field is nil); `meaning` says what that does and is shown
        /// as `(default: <meaning>)`, e.g. `all cores`.
        case absent(meaning: String)
    }

    /// The long name without its dashes: `jobs` for `--jobs`.
    public let name: String
    /// Flag or valued option.
    public let kind: Kind
    /// The default of a valued option; `.absent(meaning: "off")` for a flag, and not shown.
    public let defaultValue: Default
    /// One sentence for the help text.
    public let help: String

    /// A flag `--name`.
    public static func flag(_ name: String, help: String) -> OptionDeclaration {
        OptionDeclaration(name: name, kind: .flag, defaultValue: .absent(meaning: "off"), help: help)
    }

    /// A valued option `--name VALUE`; `valueName` defaults to the kind's placeholder (`N`, `DIR`, ...).
    public static func value(
        _ name: String, _ valueKind: ValueKind, valueName: String? = nil,
        default defaultValue: Default, help: String
    ) -> OptionDeclaration {
        if case .value(let text) = defaultValue {
            precondition(valueKind.parse(text) != nil, "default '\(text)' of --\(name) is not \(valueKind.expectation)")
        }
        let kind = Kind.value(valueKind, valueName: valueName ?? valueKind.defaultValueName)
        return OptionDeclaration(name: name, kind: kind, defaultValue: defaultValue, help: help)
    }

    /// `--jobs N` or `--quick`: how usage and help spell the option.
    public var label: String {
        switch kind {
        case .flag: return "--\(name)"
        case .value(_, let valueName): return "--\(name) \(valueName)"
        }
    }

    /// The text after the help sentence: `(default: all cores)`; nil for flags and required options.
    public var defaultNote: String? {
        guard case .value = kind else { return nil }
        switch defaultValue {
        case .required: return nil
        case .value(let text): return "(default: \(text))"
        case .absent(let meaning): return "(default: \(meaning))"
        }
    }
}
