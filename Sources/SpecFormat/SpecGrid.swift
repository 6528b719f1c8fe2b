/// One cell of a grid with where each of its settings was written (the value's
/// location), so that rules between settings can point at the right token.
struct ResolvedCell {
    let config: ExperimentConfig
    /// Where the value in force of each key set by the file is written (a
    /// variant's override replaces the fixed or swept value's location).
    let locations: [String: SourceLocation]
    /// The keys that the cell's variant overrides.
    let variantKeys: Set<String>

    /// Where to blame a rule between `keys`: the first of them that the cell's
    /// variant overrides (the variant caused the problem), else the first that
    /// the file sets, else the file's start.
    func location(_ keys: String...) -> SourceLocation { location(keys) }

    /// ``location(_:)-(String...)`` of `keys` given as an array.
    func location(_ keys: [String]) -> SourceLocation {
        if let key = keys.first(where: variantKeys.contains), let location = locations[key] { return location }
        for key in keys { if let location = locations[key] { return location } }
        return .fileStart
    }
}

/// Expands the sweeps of a spec into cells: the cartesian product of the
/// sweep lines in file order, the first varying slowest (like nested loops
/// written in file order), then the seeds innermost. A cell applies the
/// defaults, then the fixed lines (and `quick` overrides), then its swept
/// values, then the overrides of its variant.
enum SpecGrid {
    /// The most cells a grid may have: more is refused at the sweep that passes it.
    static let maxCells = 10_000

    /// Builds and checks (``SpecRules/checkCell(_:)``) every cell, in grid order.
    static func build(_ parsed: ParsedSpec, quick: Bool) throws -> [ResolvedCell] {
        var base: [String: SpecSetting] = [:]
        for setting in parsed.settings { base[setting.key] = setting }
        var axes = parsed.sweeps
        var seeds = parsed.seeds
        if quick {
            for setting in parsed.quickSettings { base[setting.key] = setting }
            for replacement in parsed.quickSweeps {
                if let index = axes.firstIndex(where: { $0.key == replacement.key }) { axes[index] = replacement }
            }
            seeds = parsed.quickSeeds ?? seeds
        }
        let radices = axes.map(\.values.count) + [seeds.count]
        let total = try cellCount(radices, axes: axes, seedsLocation: parsed.seedsLocation)
        let sweptKeys = parsed.sweeps.map(\.key)
        let written = Set(parsed.settings.map(\.key) + sweptKeys + parsed.variants.flatMap { $0.overrides.map(\.key) })
        let columnsWhereUsed = written.filter { SpecKeyTable.byName[$0]?.hasColumnOnlyWhereUsed == true }
        let variants = Dictionary(parsed.variants.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

        var cells: [ResolvedCell] = []
        cells.reserveCapacity(total)
        var digits = [Int](repeating: 0, count: radices.count)
        for _ in 0..<total {
            var chosen = base
            for (axis, sweep) in axes.enumerated() { chosen[sweep.key] = sweep.values[digits[axis]] }
            var config = ExperimentConfig()
            var locations: [String: SourceLocation] = [:]
            for key in SpecKeyTable.settings {
                guard let setting = chosen[key.name] else { continue }
                setting.assign(&config)
                locations[key.name] = setting.valueLocation
            }
            var variantKeys = Set<String>()
            if let choice = chosen["variant"], let variant = variants[choice.canonicalValue] {
                choice.assign(&config)
                locations["variant"] = choice.valueLocation
                for override in variant.overrides {
                    override.assign(&config)
                    locations[override.key] = override.valueLocation
                    variantKeys.insert(override.key)
                }
            }
            config.seed = seeds[digits[radices.count - 1]]
            config.sweptKeys = sweptKeys
            config.columnsWhereUsed = columnsWhereUsed
            config.sweptValues = axes.indices.map { axes[$0].values[digits[$0]].canonicalValue }
            let cell = ResolvedCell(config: config, locations: locations, variantKeys: variantKeys)
            try SpecRules.checkCell(cell)
            cells.append(cell)
            advance(&digits, radices: radices)
        }
        if let filter = parsed.convergenceFilter { cells += try convergenceCells(cells, filter: filter, quick: quick) }
        return cells
    }

    /// The convergence check's cells: every cell whose value of each key of `filter` is one of that key's
    /// values there (all cells for an empty filter), again with its budget doubled, in grid order after
    /// the grid; `budget_factor` joins their key, so each is a cell of its own in the tables. The quick
    /// grid may have none of the checked cells (its smaller sweeps): then it has no check.
    private static func convergenceCells(_ cells: [ResolvedCell], filter: [SpecSetting], quick: Bool) throws
        -> [ResolvedCell] {
        if cells.first?.config.sweptKeys.contains("budget_factor") == true {
            throw SpecProblem(filter.first?.location ?? .fileStart,
                              "convergence_check doubles budget_factor, which this spec sweeps; sweep it alone")
        }
        let byKey = Dictionary(grouping: filter, by: \.key)
        let matching = cells.filter { cell in
            byKey.allSatisfy { key, values in values.contains { cell.config.canonicalValue(of: key) == $0.canonicalValue } }
        }
        if matching.isEmpty, !quick, let first = filter.first {
            throw SpecProblem(first.location, "convergence_check matches no cell of the grid")
        }
        return matching.map { cell in
            var config = cell.config
            config.budgetFactor *= 2
            config.sweptKeys.append("budget_factor")
            config.sweptValues.append(String(config.budgetFactor))
            return ResolvedCell(config: config, locations: cell.locations, variantKeys: cell.variantKeys)
        }
    }

    /// The product of `radices`; refuses one above ``maxCells`` at the axis that passes it.
    private static func cellCount(_ radices: [Int], axes: [SpecSweep], seedsLocation: SourceLocation?) throws -> Int {
        var total = 1
        for (index, radix) in radices.enumerated() {
            let (product, overflow) = total.multipliedReportingOverflow(by: radix)
            if overflow || product > maxCells {
                let location = index < axes.count ? axes[index].location : (seedsLocation ?? .fileStart)
                throw SpecProblem(location, "the grid would have more than \(maxCells) cells"
                                  + " (\(radices.map(String.init).joined(separator: " x "))); split the spec")
            }
            total = product
        }
        return total
    }

    /// The next mixed-radix number: the last digit (the seeds) fastest.
    private static func advance(_ digits: inout [Int], radices: [Int]) {
        var position = digits.count - 1
        while position >= 0 {
            digits[position] += 1
            if digits[position] < radices[position] { return }
            digits[position] = 0
            position -= 1
        }
    }
}
