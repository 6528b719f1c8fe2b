/// `bnlab report SPEC... [--out DIR]`.
public struct ReportCommand: ParsableCommand {
    /// The declaration of `bnlab report`.
    public static let declaration = CommandDeclaration(
        name: "report",
        abstract: "Rebuild the charts and the reports of the specs from their result tables.",
        discussion: "Nothing is trained and no table is written: NAME-summary.csv and NAME-bnstats.csv in the"
            + " output directory are read, and NAME-accuracy.svg, NAME-bnstats.svg and NAME.md are written beside them.",
        arguments: [specsArgument],
        options: [.value("out", .path, default: .value("Results"), help: "Directory holding the result tables.")])

    /// The spec files, in command-line order.
    public var specs: [String]
    /// Where the tables are read and the charts and reports written.
    public var outputDirectory: String

    /// Reads `bnlab report`'s values.
    public init(_ parsed: ParsedArguments) {
        specs = parsed.words("SPEC")
        outputDirectory = parsed.text("out")!  // defaulted by the declaration
    }
}
