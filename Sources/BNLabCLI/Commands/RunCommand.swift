/// `bnlab run SPEC... [--jobs N] [--shard K/N] [--quick] [--out DIR] [--quiet] [--fresh] [--keep-stale]`.
public struct RunCommand: ParsableCommand {
    /// The declaration of `bnlab run`.
    public static let declaration = CommandDeclaration(
        name: "run",
        abstract: "Train every cell of the specs' grids and write the result tables.",
        discussion: "Each cell is trained, then evaluated in both train and eval mode. Finished cells are "
            + "appended to a journal in the output directory, so a run that stops resumes where it "
            + "left off; --fresh starts over. A journal written for another version of the spec, or by "
            + "another build of bnlab (its code changed), is kept aside and the run starts over, so a table "
            + "never mixes two versions; --keep-stale resumes another build's journal instead. Progress goes "
            + "to standard error.",
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
            .flag("keep-stale", help: "Resume a journal written by another build of bnlab instead of training "
                + "its cells again; its cells are then taken as this build's."),
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
    /// Whether to resume a journal written by another build (instead of moving it aside).
    public var keepStale: Bool

    /// Reads `bnlab run`'s values.
    public init(_ parsed: ParsedArguments) {
        specs = parsed.words("SPEC")
        jobs = parsed.integer("jobs")
        shard = parsed.shard("shard")
        quick = parsed.flag("quick")
        outputDirectory = parsed.text("out")!  // defaulted by the declaration
        quiet = parsed.flag("quiet")
        fresh = parsed.flag("fresh")
        keepStale = parsed.flag("keep-stale")
    }
}
