/// The words of one command line sorted by the command's declaration: option values (given or
/// defaulted) by option name, positional words by argument name.
///
/// Asking for a name the command does not declare, or for the wrong type, is a programming error
/// and traps.
public struct ParsedArguments: Equatable, Sendable {
    /// The declaration the words were parsed against.
    public let declaration: CommandDeclaration
    /// Option values by name (`jobs`), given on the command line or taken from a `.value` default.
    public let options: [String: OptionValue]
    /// Positional words by argument name (`SPEC`), in command-line order.
    public let arguments: [String: [String]]

    /// Whether flag `--name` was given.
    public func flag(_ name: String) -> Bool {
        checkDeclared(name)
        return options[name] != nil
    }

    /// The value of integer option `--name`; nil when absent without a default.
    public func integer(_ name: String) -> Int? {
        switch value(name) {
        case nil: return nil
        case .integer(let number)?: return number
        case let other?: preconditionFailure("--\(name) is not an integer option: \(other)")
        }
    }

    /// The value of integer-list option `--name`; nil when absent without a default.
    public func integers(_ name: String) -> [Int]? {
        switch value(name) {
        case nil: return nil
        case .integers(let numbers)?: return numbers
        case let other?: preconditionFailure("--\(name) is not an integer-list option: \(other)")
        }
    }

    /// The value of shard option `--name`; nil when absent without a default.
    public func shard(_ name: String) -> Shard? {
        switch value(name) {
        case nil: return nil
        case .shard(let shard)?: return shard
        case let other?: preconditionFailure("--\(name) is not a shard option: \(other)")
        }
    }

    /// The value of path or choice option `--name`; nil when absent without a default.
    public func text(_ name: String) -> String? {
        switch value(name) {
        case nil: return nil
        case .text(let text)?: return text
        case let other?: preconditionFailure("--\(name) is not a path or choice option: \(other)")
        }
    }

    /// The words of positional argument `name` (`SPEC`).
    public func words(_ name: String) -> [String] {
        precondition(declaration.arguments.contains { $0.valueName == name },
                     "\(declaration.name) declares no argument \(name)")
        return arguments[name] ?? []
    }

    /// The single word of an argument declared with count `.one`.
    public func word(_ name: String) -> String {
        let words = words(name)
        precondition(words.count == 1, "argument \(name) holds \(words.count) words, not one")
        return words[0]
    }

    private func value(_ name: String) -> OptionValue? {
        checkDeclared(name)
        return options[name]
    }

    private func checkDeclared(_ name: String) {
        precondition(declaration.option(named: name) != nil, "\(declaration.name) declares no option --\(name)")
    }
}
