/// `bnlab export-data SPEC --out DIR`.
public struct ExportDataCommand: ParsableCommand {
    /// The declaration of `bnlab export-data`.
    public static let declaration = CommandDeclaration(
        name: "export-data",
        abstract: "Export the spec's datasets for the PyTorch cross-check.",
        discussion: "The exported files hold exactly the samples bnlab trains and evaluates on.",
        arguments: [ArgumentDeclaration("SPEC", help: "The experiment spec whose datasets to export.")],
        options: [
            .value("out", .path, default: .required, help: "Directory to write the datasets to."),
        ])

    /// The spec file.
    public var spec: String
    /// Where the datasets go.
    public var outputDirectory: String

    /// Reads `bnlab export-data`'s values.
    public init(_ parsed: ParsedArguments) {
        spec = parsed.word("SPEC")
        outputDirectory = parsed.text("out")!  // required by the declaration
    }
}
