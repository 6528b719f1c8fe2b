/// Canonical text of a cell: stable across processes and runs, for row
/// identities (``cellKey()``) and hashes (``canonicalDescription``).
///
/// Values print as a spec would write them: integers in decimal; numbers as
/// the shortest text that reads back to the same 32-bit Float, without a
/// trailing `.0` (`0.1`, `0`, `3`, `0.0005`, `1e-05`); choices by their spec
/// name; switches as `on` / `off`.
extension ExperimentConfig {
    /// The swept settings and the seed, `KEY=VALUE` joined by single spaces,
    /// sweeps in file order then the seed: `batch_size=4 momentum=0.1 dropout=0 seed=1`.
    /// Unique within a grid: the identity of a row in journals and result tables.
    public func cellKey() -> String {
        let swept = sweptKeys.map { key in "\(key)=\(canonicalValue(of: key) ?? "?")" }
        return (swept + ["seed=\(seed)"]).joined(separator: " ")
    }

    /// The canonical text of the value of setting `key` in this cell, or nil
    /// when `key` is not a setting.
    public func canonicalValue(of key: String) -> String? {
        SpecKeyTable.byName[key]?.render(self)
    }

    /// Every setting, one `KEY VALUE` line per key in the table's order
    /// (Experiments/README.md), then `seed N`; lines end in `\n`.
    /// Two cells train the same way exactly when their descriptions are equal.
    public var canonicalDescription: String {
        var text = ""
        for key in SpecKeyTable.settings {
            text += "\(key.name) \(key.render(self) ?? "")\n"
        }
        return text + "seed \(seed)\n"
    }
}
