/// `bnlab run SPEC... [--jobs N] [--shard K/N] [--quick] [--out DIR] [--quiet] [--fresh]`.
public struct RunCommand: ParsableCommand {
    /// The declaration of `bnlab run`.
    public static let declaration = CommandDeclaration(
        name: "run",
        abstract: "Train every cell of the specs' grids and write the result tables.",
        discussion: "Each cell is trained, then evaluated in both train and eval mode. Finished cells are "
            + "appended to a journal in the output directory, so a run that stops resumes where it "
            + "left off; --fresh starts over. Progress goes to standard error.",
        arguments: [specsArgument],
        options: [
            .value("jobs", .integer(minimum: 1), default: .absent(meaning: "all cores"),
                   help: "Number of cells trained at the same time."),
            .value("shard", .shard, default: .absent(meaning: "none, every cell"),
                   help: "Train only share K of N disjoint shares of the cells; combine the shares' "
                       + "journals with 'bnlab merge'."),
            quickSpecOption,
            resultsDirectoryOption,
            .flag("quiet", help: "Print no progress."),
            .flag("fresh", help: "Ignore journaled cells and train every cell again."),
        ])

    /// The spec files, in command-line order.
    public var specs: [String]
    /// Cells trained at once; nil means one per core (`ProcessInfo.activeProcessorCount`).
    public var jobs: Int?
    /// The share of cells to train; nil means all of them.
    public var shard: Shard?
    /// Whether to use the specs' quick settings.
    public var quick: Bool
    /// Where journals and tables go.
    public var outputDirectory: String
    /// Whether to suppress progress output.
    public var quiet: Bool
    /// Whether to ignore existing journals.
    public var fresh: Bool

    /// Reads `bnlab run`'s values.
    public init(_ parsed: ParsedArguments) {
        specs = parsed.words("SPEC")
        jobs = parsed.integer("jobs")
        shard = parsed.shard("shard")
        quick = parsed.flag("quick")
        outputDirectory = parsed.text("out")!  // defaulted by the declaration
        quiet = parsed.flag("quiet")
        fresh = parsed.flag("fresh")
    }
}
