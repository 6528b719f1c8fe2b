import Foundation

/// The key reference of Experiments/README.md, generated from ``SpecKeyTable``
/// so that the documentation cannot drift from the parser (a test compares
/// the README with ``keyTables()``).
public enum SpecDocumentation {
    /// One Markdown table per section: key, values, default, meaning, whether `sweep` may name it.
    public static func keyTables() -> String {
        var text = ""
        for section in SpecSection.allCases {
            text += "### \(section.rawValue)\n\n"
            text += "| key | values | default | meaning, units, convention | sweep |\n"
            text += "| --- | --- | --- | --- | --- |\n"
            for key in SpecKeyTable.keys where key.section == section {
                let defaultText = key.defaultText.isEmpty ? "" : "`\(key.defaultText)`"
                let cells = ["`\(key.name)`", key.values, defaultText, key.meaning, key.sweepable ? "yes" : ""]
                text += "| " + cells.map(escape).joined(separator: " | ") + " |\n"
            }
            text += "\n"
        }
        return text
    }

    /// A table cell: `|` escaped (also inside code spans, as GitHub's tables need).
    private static func escape(_ cell: String) -> String {
        cell.replacingOccurrences(of: "|", with: "\\|")
    }
}
