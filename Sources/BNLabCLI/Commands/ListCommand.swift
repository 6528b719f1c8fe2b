/// `bnlab list [--dir DIR]`.
public struct ListCommand: ParsableCommand {
    /// The declaration of `bnlab list`.
    public static let declaration = CommandDeclaration(
        name: "list",
        abstract: "List the shipped specs, one line each.",
        options: [
            .value("dir", .path, default: .value("Experiments"), help: "Directory holding the specs."),
        ])

    /// The directory to list.
    public var directory: String

    /// Reads `bnlab list`'s values.
    public init(_ parsed: ParsedArguments) {
        directory = parsed.text("dir")!  // defaulted by the declaration
    }
}
