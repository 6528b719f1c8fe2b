/// Everything the parser and the help text know about one command: its name, description,
/// positional arguments and options.
public struct CommandDeclaration: Equatable, Sendable {
    /// The word after `bnlab`: `run`, `export-data`.
    public let name: String
    /// One line for the command list of `bnlab --help`.
    public let abstract: String
    /// More sentences that follow the abstract in `bnlab <command> --help` (may be empty).
    public let discussion: String
    /// Positional arguments, in order.
    public let arguments: [ArgumentDeclaration]
    /// Options, in the order usage and help list them. `--help`/`-h` is implicit.
    public let options: [OptionDeclaration]

    /// Declares a command. Traps on a declaration error: a repeated option name, an option named
    /// `help`, or a variadic argument that is not the last.
    public init(
        name: String, abstract: String, discussion: String = "",
        arguments: [ArgumentDeclaration] = [], options: [OptionDeclaration] = []
    ) {
        let names = options.map(\.name)
        precondition(Set(names).count == names.count, "\(name): an option is declared twice")
        precondition(!names.contains("help"), "\(name): --help is implicit")
        precondition(arguments.dropLast().allSatisfy { $0.count == .one },
                     "\(name): only the last argument may take several words")
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.arguments = arguments
        self.options = options
    }

    /// The declaration of `--name`, nil when the command has no such option.
    public func option(named name: String) -> OptionDeclaration? {
        options.first { $0.name == name }
    }
}
