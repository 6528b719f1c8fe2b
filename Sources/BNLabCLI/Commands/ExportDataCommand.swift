/// `bnlab export-data SPEC --out DIR [--quick]`.
public struct ExportDataCommand: ParsableCommand {
    /// The declaration of `bnlab export-data`.
    public static let declaration = CommandDeclaration(
        name: "export-data",
        abstract: "Export the spec's datasets for the PyTorch cross-check.",
        discussion: "The exported files hold exactly the samples bnlab trains and evaluates on.",
        arguments: [ArgumentDeclaration("SPEC", help: "The experiment spec whose datasets to export.")],
        options: [
            .value("out", .path, default: .required, help: "Directory to write the datasets to."),
            quickSpecOption,
        ])

    /// The spec, its grid and where the datasets go.
    public var target: ExportTarget

    /// Reads `bnlab export-data`'s values.
    public init(_ parsed: ParsedArguments) { target = ExportTarget(parsed) }
}
