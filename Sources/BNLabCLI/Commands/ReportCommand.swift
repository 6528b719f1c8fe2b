/// `bnlab report SPEC... [--out DIR]`.
public struct ReportCommand: ParsableCommand {
    /// The declaration of `bnlab report`.
    public static let declaration = CommandDeclaration(
        name: "report",
        abstract: "Rebuild the result tables of the specs from their journals.",
        discussion: "Nothing is trained; cells not yet in the journal are left out of the tables.",
        arguments: [specsArgument],
        options: [resultsDirectoryOption])

    /// The spec files, in command-line order.
    public var specs: [String]
    /// Where journals are read and tables written.
    public var outputDirectory: String

    /// Reads `bnlab report`'s values.
    public init(_ parsed: ParsedArguments) {
        specs = parsed.words("SPEC")
        outputDirectory = parsed.text("out")!  // defaulted by the declaration
    }
}
