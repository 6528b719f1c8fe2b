/// `bnlab export-training SPEC --cell KEY --out DIR [--quick] [--full-state-steps N]`.
public struct ExportTrainingCommand: ParsableCommand {
    /// The declaration of `bnlab export-training`.
    public static let declaration = CommandDeclaration(
        name: "export-training",
        abstract: "Train one cell as 'bnlab run' does and export what a PyTorch replay needs.",
        discussion: "Writes the initial and final weights and running statistics (safetensors, PyTorch "
            + "state_dict names), every step's batch, loss, state norms and dropout masks, the whole "
            + "state after the first steps, bnlab's measurements and the prepared data. Replay it with "
            + "Benchmarks/pytorch_reference.py replay DIR.",
        arguments: [ArgumentDeclaration("SPEC", help: "The experiment spec that holds the cell.")],
        options: [
            .value("cell", .text, valueName: "KEY", default: .required,
                   help: "The cell, as 'bnlab check' and 'bnlab run' print it, e.g. "
                       + "'batch_size=4 momentum=0.1 dropout=0 seed=0'."),
            .value("out", .path, default: .required, help: "Directory to write the files to."),
            quickSpecOption,
            .value("full-state-steps", .integer(minimum: 0), default: .value("200"),
                   help: "Steps after which the whole state is written (the first ones)."),
        ])

    /// The spec, its grid and where the files go.
    public var target: ExportTarget
    /// The cell's key (``Experiment/Cell/key``).
    public var cellKey: String
    /// Steps after which the whole state is written.
    public var fullStateSteps: Int

    /// Reads `bnlab export-training`'s values.
    public init(_ parsed: ParsedArguments) {
        target = ExportTarget(parsed)
        cellKey = parsed.text("cell")!  // required by the declaration
        fullStateSteps = parsed.integer("full-state-steps")!  // defaulted by the declaration
    }
}
