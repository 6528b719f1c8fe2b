/// `bnlab new NAME [--dir DIR] [--force]`.
public struct NewCommand: ParsableCommand {
    /// The declaration of `bnlab new`.
    public static let declaration = CommandDeclaration(
        name: "new",
        abstract: "Write a commented template spec to start a new experiment from.",
        discussion: "The spec is written to DIR/NAME.spec; an existing file is kept unless --force is given.",
        arguments: [ArgumentDeclaration("NAME", help: "Name of the new spec, without '.spec'.")],
        options: [
            .value("dir", .path, default: .value("Experiments"), help: "Directory to write the spec to."),
            .flag("force", help: "Overwrite an existing spec of the same name."),
        ])

    /// The name of the new spec.
    public var name: String
    /// The directory to write it to.
    public var directory: String
    /// Whether to overwrite an existing file.
    public var force: Bool

    /// Reads `bnlab new`'s values.
    public init(_ parsed: ParsedArguments) {
        name = parsed.word("NAME")
        directory = parsed.text("dir")!  // defaulted by the declaration
        force = parsed.flag("force")
    }
}
