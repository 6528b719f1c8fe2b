/// `bnlab check SPEC... [--quick]`.
public struct CheckCommand: ParsableCommand {
    /// The declaration of `bnlab check`.
    public static let declaration = CommandDeclaration(
        name: "check",
        abstract: "Validate specs and their data and print each expanded grid with its size and estimated run time.",
        discussion: "Nothing is trained. The datasets are loaded and checked as run checks them; errors are reported as FILE:LINE:COLUMN.",
        arguments: [specsArgument],
        options: [quickSpecOption])

    /// The spec files, in command-line order.
    public var specs: [String]
    /// Whether to check (and estimate) the quick settings.
    public var quick: Bool

    /// Reads `bnlab check`'s values.
    public init(_ parsed: ParsedArguments) {
        specs = parsed.words("SPEC")
        quick = parsed.flag("quick")
    }
}
