/// Help text generated from command declarations, in the usual shape:
///
///     USAGE: bnlab run SPEC... [--jobs N] [--quick]
///
///     <abstract and discussion, wrapped>
///
///     ARGUMENTS:
///       SPEC...         Experiment spec files.
///
///     OPTIONS:
///       --jobs N        Cells trained at the same time. (default: all cores)
///       -h, --help      Show help for this command.
///
/// Lines are wrapped at `width` columns; labels and descriptions form two aligned columns.
public enum CommandHelp {
    /// The column at which help text is wrapped.
    public static let width = 80

    /// `bnlab run SPEC... [--jobs N] ...`: arguments, then options (optional ones in brackets).
    public static func usage(_ command: CommandDeclaration) -> String {
        usageWords(command).joined(separator: " ")
    }

    /// The whole `bnlab <command> --help` text, ending with a newline.
    public static func text(_ command: CommandDeclaration) -> String {
        var rows = command.arguments.map { Row($0.label, $0.help) }
        let argumentCount = rows.count
        rows += command.options.map { Row($0.label, $0.help, unbroken: $0.defaultNote) }
        rows.append(Row("-h, --help", "Show help for this command."))
        let column = labelColumn(rows.map(\.label))

        var lines = wrap(usageWords(command), firstPrefix: "USAGE: ",
                         indent: "USAGE: bnlab \(command.name) ".count)
        lines.append("")
        lines += wrap(words(command.abstract + " " + command.discussion), firstPrefix: "", indent: 0)
        if argumentCount > 0 {
            lines += ["", "ARGUMENTS:"] + table(rows[..<argumentCount], column: column)
        }
        lines += ["", "OPTIONS:"] + table(rows[argumentCount...], column: column)
        return lines.joined(separator: "\n") + "\n"
    }

    /// The `bnlab --help` text: a summary, every command with its abstract, and the global options.
    public static func topLevel(summary: String, commands: [CommandDeclaration]) -> String {
        let commandRows = commands.map { Row($0.name, $0.abstract) } + [Row("help COMMAND", "Show help for COMMAND.")]
        let optionRows = [Row("--version", "Show the version."), Row("-h, --help", "Show this help.")]
        let column = labelColumn((commandRows + optionRows).map(\.label))
        var lines = ["USAGE: bnlab COMMAND [ARGUMENTS] [OPTIONS]", ""]
        lines += wrap(words(summary), firstPrefix: "", indent: 0)
        lines += ["", "COMMANDS:"] + table(commandRows[...], column: column)
        lines += ["", "OPTIONS:"] + table(optionRows[...], column: column)
        lines += ["", "See 'bnlab help COMMAND' for the arguments and options of a command."]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Labels longer than this do not widen the label column; their description starts on the next line.
    static let maximumLabelWidth = 24

    /// One entry of a two-column section: a label (`--jobs N`) and its description, whose words
    /// wrap freely except a final `unbroken` part such as `(default: all cores)`.
    private struct Row {
        let label: String
        let words: [String]
        init(_ label: String, _ text: String, unbroken: String? = nil) {
            self.label = label
            self.words = CommandHelp.words(text) + (unbroken.map { [$0] } ?? [])
        }
    }

    /// `bnlab`, the command name, each argument label, then each option (bracketed unless required).
    private static func usageWords(_ command: CommandDeclaration) -> [String] {
        let options = command.options.map { option in
            option.defaultValue == .required ? option.label : "[\(option.label)]"
        }
        return ["bnlab", command.name] + command.arguments.map(\.label) + options
    }

    /// Where the description column starts: two spaces of indent, the widest label up to
    /// `maximumLabelWidth`, two spaces.
    private static func labelColumn(_ labels: [String]) -> Int {
        2 + (labels.map(\.count).filter { $0 <= maximumLabelWidth }.max() ?? 0) + 2
    }

    /// `  label   text`, the text wrapped and continued under itself at `column`; a label too long for
    /// the column stands on its own line.
    private static func table(_ rows: ArraySlice<Row>, column: Int) -> [String] {
        rows.flatMap { row -> [String] in
            let head = "  " + row.label
            if head.count + 2 > column {
                return [head] + wrap(row.words, firstPrefix: String(repeating: " ", count: column), indent: column)
            }
            return wrap(row.words, firstPrefix: head + String(repeating: " ", count: column - head.count), indent: column)
        }
    }

    /// Splits prose at spaces, dropping empty words.
    private static func words(_ text: String) -> [String] {
        text.split(separator: " ").map(String.init)
    }

    /// Greedy word wrap at `width`: the first line starts with `firstPrefix`, later lines with `indent`
    /// spaces. A word longer than a line stands alone on its line.
    private static func wrap(_ words: [String], firstPrefix: String, indent: Int) -> [String] {
        var lines: [String] = []
        var line = firstPrefix
        var lineHasWord = false
        for word in words {
            if lineHasWord && line.count + 1 + word.count > width {
                lines.append(line)
                line = String(repeating: " ", count: indent)
                lineHasWord = false
            }
            line += (lineHasWord ? " " : "") + word
            lineHasWord = true
        }
        lines.append(line)
        return lines
    }
}
