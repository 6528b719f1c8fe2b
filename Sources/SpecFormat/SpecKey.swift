/// Applies one parsed value to a cell.
typealias SettingAssignment = @Sendable (inout ExperimentConfig) -> Void

/// The group a key is listed under in the documentation.
package enum SpecSection: String, CaseIterable, Sendable {
    case data = "Data"
    case model = "Model"
    case training = "Training"
    case evaluation = "Evaluation"
    case grid = "Grid and quick runs"
}

/// One entry of ``SpecKeyTable``: everything the parser, the canonical
/// strings and the documentation know about a key.
package struct SpecKey: Sendable {
    /// What the key does in the grammar.
    enum Role: Sendable {
        /// A setting of ``ExperimentConfig``: `parse` reads the value words
        /// (throwing located errors, recording warnings), `render` writes the
        /// canonical text of the value a cell holds.
        case setting(parse: @Sendable (inout SettingInput) throws -> SettingAssignment,
                     render: @Sendable (ExperimentConfig) -> String)
        /// `seeds`: the repetition axis.
        case seeds
        /// `quick`: overrides under `--quick`.
        case quick
        /// `sweep` / `quick_sweep`: a grid axis.
        case sweep
        /// `variant NAME KEY=VALUE ...`: a named set of overrides; as a swept
        /// pseudo-key, the cell's variant name.
        case variant
        /// `convergence_check all | KEY=VALUE ...`: the cells rerun with twice the budget.
        case convergenceCheck
    }

    package let name: String
    package let section: SpecSection
    /// Whether `sweep KEY ...` may name it.
    package let sweepable: Bool
    /// Whether its value is one word, so `quick KEY=VALUE` may override it.
    let oneWord: Bool
    /// The value grammar, as written in the documentation.
    let values: String
    /// The meaning, with units and conventions, as written in the documentation.
    let meaning: String
    let role: Role
    /// The default as written in a spec, for keys that are not settings.
    let fixedDefault: String
    /// Why the key is one value for the whole spec, or nil when cells may differ in it. A key
    /// with a reason cannot be swept nor set by `quick` or a `variant` (see ``perSpec(because:)``).
    private(set) var perSpecReason: String? = nil
    /// Whether ``ExperimentConfig/canonicalDescription`` leaves this setting out while a cell holds
    /// its default (see ``omittedFromDescriptionsAtDefault()``).
    private(set) var omittedAtDefault = false
    /// Whether the result tables have this key's column only in grids where some cell sets it away from
    /// its default (see ``columnOnlyWhereUsed()``).
    private(set) var hasColumnOnlyWhereUsed = false

    init(_ name: String, _ section: SpecSection, sweepable: Bool = false, oneWord: Bool = true,
         values: String, meaning: String, role: Role, fixedDefault: String = "") {
        self.name = name
        self.section = section
        self.sweepable = sweepable
        self.oneWord = oneWord || sweepable
        self.values = values
        self.meaning = meaning
        self.role = role
        self.fixedDefault = fixedDefault
    }

    /// The default as written in a spec: the canonical text of ``ExperimentConfig/init()``'s value.
    var defaultText: String {
        if case let .setting(_, render) = role { return render(ExperimentConfig()) }
        return fixedDefault
    }

    /// This key as one value for the whole spec, because of `reason` (which completes "it is one
    /// value for the whole spec, because ..."): `sweep`, `quick_sweep`, `quick` and `variant` refuse it.
    func perSpec(because reason: String) -> SpecKey {
        precondition(!sweepable, "\(name): a per-spec key cannot be sweepable")
        var key = self
        key.perSpecReason = reason
        return key
    }

    /// This key left out of ``ExperimentConfig/canonicalDescription`` while the cell holds its default:
    /// for a key added after journals and results were written, so that every cell that existed before
    /// it keeps its description, its spec's ``Spec/resolvedHash`` and therefore its journal. A cell
    /// that sets another value lists it, in table order, like any key.
    func omittedFromDescriptionsAtDefault() -> SpecKey {
        var key = self
        key.omittedAtDefault = true
        return key
    }

    /// This key's setting column in the result tables only for a grid where some cell sets it away from its
    /// default (``ExperimentConfig/columnsWhereUsed``): for a sweepable key added after results were
    /// written, so that the tables of every grid that does not use it keep their columns, byte for byte.
    func columnOnlyWhereUsed() -> SpecKey {
        precondition(sweepable, "\(name): only a sweepable key has a setting column")
        var key = self
        key.hasColumnOnlyWhereUsed = true
        return key
    }

    /// Why `setter` (`quick`, `a variant`) cannot set this key to `value`; nil when it may.
    func perSpecRefusal(by setter: String, value: String) -> String? {
        guard let reason = perSpecReason else { return nil }
        return "\(quoted(name)) cannot be set by \(setter): it is one value for the whole spec, because \(reason);"
            + " write '\(name) \(value)' on its own line"
    }

    /// Why `sweep` cannot name this key because it is one value per spec; nil for other keys.
    var perSpecSweepRefusal: String? {
        perSpecReason.map { "\(quoted(name)) cannot be swept: it is one value for the whole spec, because \($0)" }
    }

    /// The canonical text of this setting's value in `config`: for `variant` the
    /// cell's variant name (nil without one); nil for the other keys that are not settings.
    package func render(_ config: ExperimentConfig) -> String? {
        switch role {
        case let .setting(_, render): return render(config)
        case .variant: return config.variant
        case .seeds, .quick, .sweep, .convergenceCheck: return nil
        }
    }
}

// MARK: - Constructors for the common shapes of setting

extension SpecKey {
    /// A one-word setting stored at `field`: `read` parses the word, `write` renders the value.
    static func scalar<Value: Sendable>(_ name: String, _ section: SpecSection, sweepable: Bool, values: String,
                              meaning: String, _ field: WritableKeyPath<ExperimentConfig, Value> & Sendable,
                              read: @escaping @Sendable (SpecToken) throws -> Value,
                              write: @escaping @Sendable (Value) -> String) -> SpecKey {
        SpecKey(name, section, sweepable: sweepable, values: values, meaning: meaning,
                role: .setting(parse: { input in
                    let value = try read(input.single())
                    return { $0[keyPath: field] = value }
                }, render: { write($0[keyPath: field]) }))
    }

    /// An integer setting >= `minimum` stored at `field`.
    static func integer(_ name: String, _ section: SpecSection, sweepable: Bool = false, atLeast minimum: Int,
                        meaning: String, _ field: WritableKeyPath<ExperimentConfig, Int> & Sendable) -> SpecKey {
        scalar(name, section, sweepable: sweepable, values: "integer >= \(minimum)", meaning: meaning, field,
               read: { try $0.integer(name, atLeast: minimum) }, write: { String($0) })
    }

    /// A Float setting in `range` stored at `field`.
    static func number(_ name: String, _ section: SpecSection, sweepable: Bool = false, in range: NumberRange,
                       meaning: String, _ field: WritableKeyPath<ExperimentConfig, Float> & Sendable) -> SpecKey {
        scalar(name, section, sweepable: sweepable, values: "number \(range.description)", meaning: meaning, field,
               read: { try $0.float(name, in: range) }, write: SpecNumber.format)
    }

    /// A setting whose values are the raw values of `E`, stored at `field`.
    static func choice<E: CaseIterable & RawRepresentable & Sendable>(
        _ name: String, _ section: SpecSection, sweepable: Bool = false, meaning: String,
        _ field: WritableKeyPath<ExperimentConfig, E> & Sendable
    ) -> SpecKey where E.RawValue == String {
        scalar(name, section, sweepable: sweepable, values: E.allCases.map(\.rawValue).joined(separator: " | "),
               meaning: meaning, field, read: { try $0.choice(name, E.self) }, write: \.rawValue)
    }

    /// An `on | off` setting stored at `field`.
    static func onOff(_ name: String, _ section: SpecSection, sweepable: Bool = false, meaning: String,
                      _ field: WritableKeyPath<ExperimentConfig, Bool> & Sendable) -> SpecKey {
        scalar(name, section, sweepable: sweepable, values: "on | off", meaning: meaning, field,
               read: { try $0.onOff(name) }, write: { $0 ? "on" : "off" })
    }

    /// A setting with its own `parse` and `render` (see ``SettingParsers``).
    static func custom(_ name: String, _ section: SpecSection, sweepable: Bool = false, oneWord: Bool = true,
                       values: String, meaning: String,
                       parse: @escaping @Sendable (inout SettingInput) throws -> SettingAssignment,
                       render: @escaping @Sendable (ExperimentConfig) -> String) -> SpecKey {
        SpecKey(name, section, sweepable: sweepable, oneWord: oneWord, values: values, meaning: meaning,
                role: .setting(parse: parse, render: render))
    }
}
