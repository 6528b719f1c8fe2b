/// One parsed bnlab command with its typed values.
public enum Command: Equatable, Sendable {
    /// `bnlab run`.
    case run(RunCommand)
    /// `bnlab check`.
    case check(CheckCommand)
    /// `bnlab list`.
    case list(ListCommand)
    /// `bnlab report`.
    case report(ReportCommand)
    /// `bnlab merge`.
    case merge(MergeCommand)
    /// `bnlab status`.
    case status(StatusCommand)
    /// `bnlab new`.
    case new(NewCommand)
    /// `bnlab bench`.
    case bench(BenchCommand)
    /// `bnlab export-data`.
    case exportData(ExportDataCommand)
    /// `bnlab export-training`.
    case exportTraining(ExportTrainingCommand)

    /// One row of the command table: a declaration and how its parsed words become a `Command`.
    struct Entry: Sendable {
        let declaration: CommandDeclaration
        let make: @Sendable (ParsedArguments) -> Command

        init<C: ParsableCommand>(_ type: C.Type, _ wrap: @escaping @Sendable (C) -> Command) {
            declaration = C.declaration
            make = { wrap(C($0)) }
        }
    }

    /// Every bnlab command, in the order `bnlab --help` lists them.
    static let table: [Entry] = [
        Entry(RunCommand.self) { .run($0) },
        Entry(CheckCommand.self) { .check($0) },
        Entry(ListCommand.self) { .list($0) },
        Entry(ReportCommand.self) { .report($0) },
        Entry(MergeCommand.self) { .merge($0) },
        Entry(StatusCommand.self) { .status($0) },
        Entry(NewCommand.self) { .new($0) },
        Entry(BenchCommand.self) { .bench($0) },
        Entry(ExportDataCommand.self) { .exportData($0) },
        Entry(ExportTrainingCommand.self) { .exportTraining($0) },
    ]

    /// The declarations of every command, in table order.
    public static var declarations: [CommandDeclaration] { table.map(\.declaration) }
}
