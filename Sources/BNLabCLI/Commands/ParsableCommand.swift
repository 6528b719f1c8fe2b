/// A bnlab command's typed values, built from its declaration.
public protocol ParsableCommand: Equatable, Sendable {
    /// The command's name, description, arguments and options.
    static var declaration: CommandDeclaration { get }
    /// Reads the typed values from words parsed against `declaration`.
    init(_ parsed: ParsedArguments)
}

/// The `SPEC...` argument that most commands take.
let specsArgument = ArgumentDeclaration("SPEC", count: .oneOrMore, help: "Experiment spec files (Experiments/*.spec).")

/// `--out DIR` defaulting to `Results`, shared by run, report and status.
let resultsDirectoryOption = OptionDeclaration.value(
    "out", .path, default: .value("Results"), help: "Directory holding the journals and result tables.")

/// `--quick` of run, check and export-data.
let quickSpecOption = OptionDeclaration.flag(
    "quick", help: "Use the spec's quick settings (fewer samples and epochs): a smoke test.")
