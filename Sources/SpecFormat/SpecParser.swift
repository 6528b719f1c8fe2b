/// What the lines of a spec file say, before the grid is built.
struct ParsedSpec {
    package var settings: [SpecSetting] = []
    var sweeps: [SpecSweep] = []
    var seeds: [UInt64] = [0]
    var seedsLocation: SourceLocation? = nil
    var quickSettings: [SpecSetting] = []
    var quickSeeds: [UInt64]? = nil
    var quickSweeps: [SpecSweep] = []
    var variants: [SpecVariant] = []
    /// `convergence_check`: the values a cell must have to be rerun with twice its budget, any of a
    /// key's values per key (empty = every cell); nil = no check.
    var convergenceFilter: [SpecSetting]? = nil
}

/// Reads a spec file line by line into a ``ParsedSpec``, then builds and
/// validates its grids (``SpecGrid``, ``SpecRules``). Every error is a
/// ``SpecError`` at the offending token: problems within lines in file order
/// first, then rules between lines, then rules within each cell in grid order.
struct SpecParser {
    let path: String
    /// The spec file's directory, against which dataset paths resolve.
    let directory: String

    /// What the lines read so far say.
    var parsed = ParsedSpec()
    /// Where each key was first given, and whether by a `sweep`: for duplicate errors.
    private var firstUse: [String: (location: SourceLocation, swept: Bool)] = [:]
    private var quickSwept: [String: SourceLocation] = [:]
    /// The warnings so far, without the file name.
    var warnings: [SpecProblem] = []

    init(path: String) {
        self.path = path
        let slash = path.lastIndex(of: "/")
        directory = slash.map { String(path[..<$0]) } ?? ""
    }

    /// Parses and validates `bytes`.
    func parse(_ bytes: [UInt8]) throws -> Spec {
        var parser = self
        do {
            return try parser.run(bytes)
        } catch let problem as SpecProblem {
            throw SpecError(file: path, location: problem.location, message: problem.message)
        }
    }

    private mutating func run(_ bytes: [UInt8]) throws -> Spec {
        guard !bytes.isEmpty else { throw SpecProblem(.fileStart, "empty file: a spec needs at least one setting") }
        var sawSetting = false
        for (index, line) in SpecLexer.lines(bytes).enumerated() {
            let tokens = try SpecLexer.tokens(of: line, number: index + 1)
            guard let head = tokens.first else { continue }
            sawSetting = true
            try parseLine(head, Array(tokens.dropFirst()))
        }
        guard sawSetting else {
            throw SpecProblem(.fileStart, "no settings: the file holds only comments and blank lines")
        }
        try checkWholeFile()
        warnings += unusedVariantWarnings()
        let grid = try SpecGrid.build(parsed, quick: false)
        let quickGrid = try SpecGrid.build(parsed, quick: true)
        try SpecRules.checkRelevance(grid)
        // The quick grid may leave out cells where a key acts; only its own overrides must act in it.
        let quickLines = Set(parsed.quickSettings.map(\.location.line))
        try SpecRules.checkRelevance(quickGrid, lines: quickLines)
        // Lines whose every cell a variant overrides act nowhere (quick: only the quick lines).
        func sources(_ settings: [SpecSetting], _ sweeps: [SpecSweep]) -> [(key: String, location: SourceLocation)] {
            settings.map { ($0.key, $0.location) } + sweeps.map { ($0.key, $0.location) }
        }
        try SpecRules.checkNotAlwaysOverridden(grid, sources(parsed.settings, parsed.sweeps))
        try SpecRules.checkNotAlwaysOverridden(quickGrid, sources(parsed.quickSettings, parsed.quickSweeps))
        let gridWarnings = SpecRules.warnings(grid)
        let quickOnly = SpecRules.warnings(quickGrid).filter { quick in
            !gridWarnings.contains { $0.location == quick.location && $0.message == quick.message }
        }
        warnings += gridWarnings + quickOnly.map { SpecProblem($0.location, "with --quick: " + $0.message) }
        var seen = Set<String>()
        let located = warnings.sorted { $0.location < $1.location }.compactMap { problem -> SpecWarning? in
            let key = "\(problem.location) \(problem.message)"
            guard seen.insert(key).inserted else { return nil }
            return SpecWarning(.warning, file: path, location: problem.location, message: problem.message)
        }
        return Spec(path: path, parsed: parsed, warnings: located,
                    grid: grid.map(\.config), quickGrid: quickGrid.map(\.config))
    }

    // MARK: Lines

    private mutating func parseLine(_ head: SpecToken, _ words: [SpecToken]) throws {
        guard let key = SpecKeyTable.byName[head.text] else {
            if let (name, value) = head.splitKeyword(), SpecKeyTable.byName[name] != nil {
                throw SpecProblem(head.location, "unknown key \(quoted(head.text)); write '\(name) \(value.text)'"
                                  + " (a key and its value are separated by a space)")
            }
            throw SpecProblem(head.location, "unknown key \(quoted(head.text))"
                              + NearestName.suggestion(for: head.text, in: SpecKeyTable.names))
        }
        switch key.role {
        case .sweep:
            try parseSweep(head, words)
        case .seeds:
            try claim(head, swept: false)
            guard !words.isEmpty else { throw SpecProblem(head.location, "'seeds' needs at least one value") }
            parsed.seeds = try seedList(words)
            parsed.seedsLocation = words[0].location
        case .quick:
            try claim(head, swept: false)
            try parseQuick(head, words)
        case .setting:
            try claim(head, swept: false)
            parsed.settings.append(try makeSetting(key, head, words, at: head.location))
        case .variant:
            try parseVariant(head, words)
        case .convergenceCheck:
            try claim(head, swept: false)
            try parseConvergenceCheck(head, words)
        }
    }

    /// `convergence_check all` or `convergence_check KEY=V1[,V2...] ...` (checked against the grid once every
    /// line is read, in ``SpecGrid``): a cell is checked when, for every KEY, its value is one of the list.
    private mutating func parseConvergenceCheck(_ head: SpecToken, _ words: [SpecToken]) throws {
        guard !words.isEmpty else {
            throw SpecProblem(head.location, "'convergence_check' needs 'all' or KEY=VALUE[,VALUE...] ...")
        }
        if words.count == 1 && words[0].text == "all" { parsed.convergenceFilter = []; return }
        let filter = try KeywordArguments(words[...], context: "convergence_check", allowed: SpecKeyTable.variantNames,
                                          anchor: head, refusal: { _, _ in nil })
        var settings: [SpecSetting] = []
        for name in SpecKeyTable.variantNames {
            guard let list = filter.optional(name), let key = SpecKeyTable.byName[name] else { continue }
            for value in list.split(",") {
                settings.append(try makeSetting(key, SpecToken(text: name, location: value.location), [value],
                                                at: value.location))
            }
        }
        parsed.convergenceFilter = settings
    }

    /// `sweep KEY V1 V2 ...` or `quick_sweep KEY V1 V2 ...`.
    private mutating func parseSweep(_ head: SpecToken, _ words: [SpecToken]) throws {
        let isQuick = head.text == "quick_sweep"
        guard let keyToken = words.first else {
            throw SpecProblem(head.location, "'\(head.text)' needs a key and values: \(head.text) KEY V1 V2 ...")
        }
        guard let key = SpecKeyTable.byName[keyToken.text] else {
            throw SpecProblem(keyToken.location, "unknown key \(quoted(keyToken.text))"
                              + NearestName.suggestion(for: keyToken.text, in: SpecKeyTable.names))
        }
        if key.name == "seeds" {
            throw SpecProblem(keyToken.location, "'seeds' cannot be swept: the seeds are their own, innermost"
                              + " axis; write 'seeds 0 1 2'")
        }
        if let refusal = key.perSpecSweepRefusal { throw SpecProblem(keyToken.location, refusal) }
        guard key.sweepable else {
            throw SpecProblem(keyToken.location, "\(quoted(key.name)) cannot be swept; the sweepable keys are "
                              + SpecKeyTable.sweepableNames.joined(separator: ", "))
        }
        if isQuick {
            if let first = quickSwept[key.name] {
                throw SpecProblem(keyToken.location, "duplicate quick_sweep of \(quoted(key.name))"
                                  + " (first on line \(first.line))")
            }
            quickSwept[key.name] = keyToken.location
        } else {
            try claim(keyToken, swept: true)
        }
        let values = words.dropFirst()
        guard !values.isEmpty else {
            throw SpecProblem(keyToken.location, "the sweep of \(quoted(key.name)) has no values")
        }
        var seen: [String: SpecToken] = [:]
        var settings: [SpecSetting] = []
        for value in values {
            let setting = try sweepValue(key, keyToken, value)
            if let first = seen[setting.canonicalValue] {
                throw SpecProblem(value.location, "duplicate value \(quoted(value.text)) in the sweep of"
                                  + " \(key.name) (same as \(quoted(first.text)) at column \(first.location.column))")
            }
            seen[setting.canonicalValue] = value
            settings.append(setting)
        }
        let sweep = SpecSweep(key: key.name, location: keyToken.location, values: settings)
        if isQuick { parsed.quickSweeps.append(sweep) } else { parsed.sweeps.append(sweep) }
    }

    /// `quick KEY=VALUE ...`: one-word settings and `seeds=S1,S2,...`.
    private mutating func parseQuick(_ head: SpecToken, _ words: [SpecToken]) throws {
        guard !words.isEmpty else {
            throw SpecProblem(head.location, "'quick' needs overrides: quick KEY=VALUE ...")
        }
        let overrides = try KeywordArguments(words[...], context: "quick", allowed: SpecKeyTable.quickNames,
                                             anchor: head, refusal: { name, value in
            if name == "variant" { return "quick cannot choose a variant; write 'quick_sweep variant NAME ...'" }
            return SpecKeyTable.byName[name]?.perSpecRefusal(by: "quick", value: value.text)
        })
        parsed.quickSettings = try overrideSettings(overrides, names: SpecKeyTable.variantNames)
        if let seeds = overrides.optional("seeds") {
            parsed.quickSeeds = try seedList(seeds.split(","))
        }
    }

    /// The settings of the `KEY=VALUE` words of `overrides` among `names` (one-word
    /// settings), in the order of `names`, each located at its KEY.
    mutating func overrideSettings(_ overrides: KeywordArguments, names: [String]) throws -> [SpecSetting] {
        var settings: [SpecSetting] = []
        for name in names {
            guard let value = overrides.optional(name), let key = SpecKeyTable.byName[name] else { continue }
            let nameLocation = SourceLocation(line: value.location.line,
                                              column: max(1, value.location.column - name.utf8.count - 1))
            let nameToken = SpecToken(text: name, location: nameLocation)
            settings.append(try makeSetting(key, nameToken, [value], at: nameLocation))
        }
        return settings
    }

    /// Seeds: integers >= 0, no repeats.
    private func seedList(_ words: [SpecToken]) throws -> [UInt64] {
        var seen: [UInt64: SpecToken] = [:]
        var seeds: [UInt64] = []
        for word in words {
            let seed = try word.unsigned("seed")
            if let first = seen[seed] {
                throw SpecProblem(word.location, "duplicate seed \(quoted(word.text))"
                                  + " (same as \(quoted(first.text)) at column \(first.location.column))")
            }
            seen[seed] = word
            seeds.append(seed)
        }
        return seeds
    }

    /// Parses `words` as the value of `key`, keeping the warnings.
    mutating func makeSetting(_ key: SpecKey, _ keyToken: SpecToken, _ words: [SpecToken],
                              at location: SourceLocation) throws -> SpecSetting {
        guard case let .setting(parse, render) = key.role else {
            throw SpecProblem(keyToken.location, "\(quoted(key.name)) is not a setting")
        }
        var input = SettingInput(key: keyToken, words: words, directory: directory)
        let assign = try parse(&input)
        warnings += input.warnings
        var probe = ExperimentConfig()
        assign(&probe)
        return SpecSetting(key: key.name, words: words.map(\.text), location: location,
                           valueLocation: words.first?.location ?? location,
                           canonicalValue: render(probe), assign: assign)
    }

    /// Records the first use of a key; refuses a second one.
    private mutating func claim(_ keyToken: SpecToken, swept: Bool) throws {
        let name = keyToken.text
        if let first = firstUse[name] {
            let message: String
            if first.swept == swept {
                message = swept
                    ? "duplicate sweep of \(quoted(name)) (first on line \(first.location.line))"
                    : "duplicate key \(quoted(name)) (first set on line \(first.location.line))"
            } else {
                message = "\(quoted(name)) is \(first.swept ? "swept" : "fixed") on line \(first.location.line);"
                    + " a key may be fixed or swept, not both"
            }
            throw SpecProblem(keyToken.location, message)
        }
        firstUse[name] = (keyToken.location, swept)
    }

    // MARK: Whole-file checks

    /// Rules between lines: `quick` and `quick_sweep` against the sweeps, the
    /// names of `sweep variant` against the `variant` lines, and `lr` against
    /// the optimizer's `lr=`. The earliest problem is thrown.
    private func checkWholeFile() throws {
        var problems: [SpecProblem] = []
        for setting in parsed.quickSettings {
            if let use = firstUse[setting.key], use.swept {
                problems.append(SpecProblem(setting.location, "quick overrides \(quoted(setting.key)), which is"
                                            + " swept on line \(use.location.line); write 'quick_sweep \(setting.key)"
                                            + " ...' to replace its values"))
            }
        }
        for sweep in parsed.quickSweeps where firstUse[sweep.key]?.swept != true {
            problems.append(SpecProblem(sweep.location, "quick_sweep of \(quoted(sweep.key)), which has no sweep"
                                        + " line; write 'quick \(sweep.key)=VALUE' to override a fixed value"))
        }
        problems += unknownVariantProblems()
        if let lr = firstUse["lr"], let optimizer = parsed.settings.first(where: { $0.key == "optimizer" }),
           optimizer.words.contains(where: { $0.hasPrefix("lr=") }) {
            problems.append(SpecProblem(lr.location, "'lr' replaces the lr= of 'optimizer' on line"
                                        + " \(optimizer.location.line); give the learning rate in one place"))
        }
        if let first = problems.min(by: { $0.location < $1.location }) { throw first }
    }
}
