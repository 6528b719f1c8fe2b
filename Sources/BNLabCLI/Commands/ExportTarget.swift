/// What both export commands (`export-data`, `export-training`) take: the spec, which of its grids
/// (`--quick`), and where the files go.
public struct ExportTarget: Equatable, Sendable {
    /// The spec file.
    public var spec: String
    /// Where the files go (`--out`, required by both declarations).
    public var outputDirectory: String
    /// Whether the spec's quick grid (`bnlab run --quick`) is meant.
    public var quick: Bool

    init(_ parsed: ParsedArguments) {
        spec = parsed.word("SPEC"); outputDirectory = parsed.text("out")!; quick = parsed.flag("quick")
    }
}
