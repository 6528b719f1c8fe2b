/// A `variant NAME KEY=VALUE ...` line: a named set of overrides that one axis
/// of the grid (`sweep variant NAME1 NAME2 ...`) chooses between, so that one
/// sweep compares remedies that differ in several settings at once.
///
/// Precedence in a cell: defaults < fixed lines (< `quick` overrides under
/// `--quick`) < swept values < the overrides of the cell's variant. A variant
/// may override a swept key: the cell then trains with the variant's value,
/// while its ``ExperimentConfig/cellKey()`` keeps the swept value as written.
public struct SpecVariant: Sendable {
    /// The name: letters, digits, `-` and `_`; unique in its spec.
    public let name: String
    /// Where the name is written.
    public let location: SourceLocation
    /// The overrides in the key table's order, each a one-word setting (none: the spec as it is).
    public let overrides: [SpecSetting]

    /// Whether `text` is a valid variant name: non-empty ASCII letters, digits, `-` and `_`.
    static func isValidName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                return true
            default:
                return false
            }
        }
    }
}
