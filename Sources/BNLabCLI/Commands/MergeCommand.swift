/// `bnlab merge SPEC JOURNAL... --out DIR`.
public struct MergeCommand: ParsableCommand {
    /// The declaration of `bnlab merge`.
    public static let declaration = CommandDeclaration(
        name: "merge",
        abstract: "Combine the journals of a sharded run into the spec's result tables.",
        discussion: "Each JOURNAL is the journal written by one 'bnlab run --shard K/N' of SPEC.",
        arguments: [
            ArgumentDeclaration("SPEC", help: "The experiment spec that the shards ran."),
            ArgumentDeclaration("JOURNAL", count: .oneOrMore, help: "Journal files of the shards."),
        ],
        options: [
            .value("out", .path, default: .required, help: "Directory for the merged journal and tables."),
        ])

    /// The spec file.
    public var spec: String
    /// The shard journals, in command-line order.
    public var journals: [String]
    /// Where the merged journal and tables go.
    public var outputDirectory: String

    /// Reads `bnlab merge`'s values.
    public init(_ parsed: ParsedArguments) {
        spec = parsed.word("SPEC")
        journals = parsed.words("JOURNAL")
        outputDirectory = parsed.text("out")!  // required by the declaration
    }
}
