/// `bnlab status SPEC... [--out DIR]`.
public struct StatusCommand: ParsableCommand {
    /// The declaration of `bnlab status`.
    public static let declaration = CommandDeclaration(
        name: "status",
        abstract: "Show how many cells of each spec are done, out of the total.",
        arguments: [specsArgument],
        options: [resultsDirectoryOption])

    /// The spec files, in command-line order.
    public var specs: [String]
    /// Where the journals are.
    public var outputDirectory: String

    /// Reads `bnlab status`'s values.
    public init(_ parsed: ParsedArguments) {
        specs = parsed.words("SPEC")
        outputDirectory = parsed.text("out")!  // defaulted by the declaration
    }
}
