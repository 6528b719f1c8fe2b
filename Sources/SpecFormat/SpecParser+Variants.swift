/// The `variant` lines and the values of `sweep variant` (see ``SpecVariant``).
extension SpecParser {
    /// `variant NAME [KEY=VALUE ...]`: each KEY=VALUE is read exactly as the line
    /// `KEY VALUE` would be; errors point at the KEY=VALUE word (a bad value at the value).
    mutating func parseVariant(_ head: SpecToken, _ words: [SpecToken]) throws {
        guard let name = words.first else {
            throw SpecProblem(head.location, "'variant' needs a name: variant NAME [KEY=VALUE ...]")
        }
        guard SpecVariant.isValidName(name.text) else {
            let hint = name.splitKeyword() == nil ? "" : "; write 'variant NAME \(name.text)'"
            throw SpecProblem(name.location, "a variant name is letters, digits, '-' and '_', got \(quoted(name.text))"
                              + hint)
        }
        if let first = parsed.variants.first(where: { $0.name == name.text }) {
            throw SpecProblem(name.location, "duplicate variant \(quoted(name.text))"
                              + " (first defined on line \(first.location.line))")
        }
        let overrides = try KeywordArguments(words.dropFirst(), context: "variant \(quoted(name.text))",
                                             allowed: SpecKeyTable.variantNames, anchor: name,
                                             refusal: Self.variantRefusal)
        let settings = try overrideSettings(overrides, names: SpecKeyTable.variantNames)
        parsed.variants.append(SpecVariant(name: name.text, location: name.location, overrides: settings))
    }

    /// Why a key of the table other than a one-word setting that may differ between cells
    /// cannot be a variant's KEY.
    private static func variantRefusal(_ name: String, _ value: SpecToken) -> String? {
        guard let key = SpecKeyTable.byName[name] else { return nil }
        if let refusal = key.perSpecRefusal(by: "a variant", value: value.text) { return refusal }
        if case .setting = key.role {
            return "\(quoted(name)) takes several words and cannot be set by a variant; a variant overrides"
                + " settings with one-word values (give \(name) its own line)"
        }
        let seeds = name == "seeds" ? "; the seeds are the innermost axis, shared by every variant" : ""
        return "\(quoted(name)) is not a setting and cannot be set by a variant\(seeds)"
    }

    /// One value of a sweep line: a setting of `key`, or for `variant` a name,
    /// checked against the `variant` lines once the whole file is read.
    mutating func sweepValue(_ key: SpecKey, _ keyToken: SpecToken, _ value: SpecToken) throws -> SpecSetting {
        guard case .variant = key.role else { return try makeSetting(key, keyToken, [value], at: value.location) }
        let name = value.text
        return SpecSetting(key: key.name, words: [name], location: value.location, valueLocation: value.location,
                           canonicalValue: name, assign: { $0.variant = name })
    }

    /// The values of `sweep variant` and `quick_sweep variant`, in file order.
    private var sweptVariantNames: [SpecSetting] {
        (parsed.sweeps + parsed.quickSweeps).filter { $0.key == "variant" }.flatMap(\.values)
    }

    /// A problem at every swept name that no `variant` line defines.
    func unknownVariantProblems() -> [SpecProblem] {
        let names = parsed.variants.map(\.name)
        return sweptVariantNames.filter { !names.contains($0.canonicalValue) }.map { value in
            let hint: String
            if names.isEmpty {
                hint = "; define it with a line 'variant \(value.canonicalValue) KEY=VALUE ...'"
            } else {
                let nearest = NearestName.suggestion(for: value.canonicalValue, in: names)
                hint = nearest.isEmpty ? " (the variants are \(names.joined(separator: ", ")))" : nearest
            }
            return SpecProblem(value.location, "unknown variant \(quoted(value.canonicalValue))" + hint)
        }
    }

    /// A warning at every `variant` line that no sweep names.
    func unusedVariantWarnings() -> [SpecProblem] {
        let used = Set(sweptVariantNames.map(\.canonicalValue))
        return parsed.variants.filter { !used.contains($0.name) }.map { variant in
            SpecProblem(variant.location, "variant \(quoted(variant.name)) is defined but no 'sweep variant' line"
                        + " names it")
        }
    }
}
