/// Canonical text of a cell: stable across processes and runs, for row
/// identities (``cellKey()``) and hashes (``canonicalDescription``).
///
/// Values print as a spec would write them: integers in decimal; numbers as
/// the shortest text that reads back to the same 32-bit Float, without a
/// trailing `.0` (`0.1`, `0`, `3`, `0.0005`, `1e-05`); choices by their spec
/// name; switches as `on` / `off`.
extension ExperimentConfig {
    /// The swept values as the sweep lines write them (``sweptValues``) and the
    /// seed, `KEY=VALUE` joined by single spaces, sweeps in file order then the
    /// seed: `batch_size=4 momentum=0.1 dropout=0 seed=1`,
    /// `variant=ghost-bn-4 batch_size=2 seed=0`. Unique within a grid, also where
    /// a variant overrides a swept key: the identity of a row in journals and result tables.
    /// A key without a recorded swept value (a config built by hand) shows its value in this cell.
    public func cellKey() -> String {
        let swept = sweptKeys.enumerated().map { index, key in
            "\(key)=\(index < sweptValues.count ? sweptValues[index] : canonicalValue(of: key) ?? "?")"
        }
        return (swept + ["seed=\(seed)"]).joined(separator: " ")
    }

    /// The canonical text of the value of setting `key` in this cell (for
    /// `variant`, its name), or nil when `key` is not a setting or the cell has no variant.
    public func canonicalValue(of key: String) -> String? {
        SpecKeyTable.byName[key]?.render(self)
    }

    /// Every setting, one `KEY VALUE` line per key in the table's order
    /// (Experiments/README.md), then `variant NAME` when the cell has one, then
    /// `seed N`; lines end in `\n`. Two cells train the same way when their
    /// descriptions are equal; the variant's name is part of it because journal
    /// rows are keyed by it (renaming a variant must not reuse another's rows).
    /// Keys added after results existed (`activation`) are left out while at their
    /// default (``SpecKey/omittedFromDescriptionsAtDefault()``), so the cells written
    /// before them keep their descriptions and hashes.
    public var canonicalDescription: String {
        var text = ""
        for key in SpecKeyTable.settings {
            let value = key.render(self) ?? ""
            if key.omittedAtDefault && value == key.defaultText { continue }
            text += "\(key.name) \(value)\n"
        }
        if let variant { text += "variant \(variant)\n" }
        return text + "seed \(seed)\n"
    }

    /// The setting columns of a result row, `[name, value used]`: `variant` first
    /// when the cell has one (every cell of a spec that sweeps variants), then
    /// every sweepable setting in the key table's order, with the value after the
    /// variant's overrides; empty for a setting that does not apply in the cell
    /// and whose relevance rule says so (`jitter_apply` without a jitter,
    /// ``SpecRules/showsInTables(_:_:)``).
    public var settingColumns: [[String]] {
        func hasColumn(_ key: SpecKey) -> Bool {
            key.sweepable && (!key.hasColumnOnlyWhereUsed || columnsWhereUsed.contains(key.name))
        }
        let variantColumn = variant.map { [["variant", $0]] } ?? []
        return variantColumn + SpecKeyTable.settings.filter(hasColumn).map { key in
            [key.name, SpecRules.showsInTables(key.name, self) ? key.render(self) ?? "" : ""]
        }
    }
}
