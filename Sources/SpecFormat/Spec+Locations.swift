/// Where a spec sets a key, for errors found after parsing (e.g. a dataset too small for its splits).
extension Spec {
    /// The location of the first of `keys` that the spec sets: under `quick`, its `quick`
    /// override or `quick_sweep` first; then its `sweep` line; then its fixed setting.
    /// nil when the spec sets none of them (they keep their defaults).
    public func location(of keys: String..., quick: Bool) -> SourceLocation? {
        for key in keys {
            if quick {
                if let s = quickSettings.first(where: { $0.key == key }) { return s.location }
                if let s = quickSweeps.first(where: { $0.key == key }) { return s.location }
            }
            if let s = sweeps.first(where: { $0.key == key }) { return s.location }
            if let s = setting(key) { return s.location }
        }
        return nil
    }
}
