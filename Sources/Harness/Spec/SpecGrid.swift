/// One cell of a grid with where each of its settings was written (the value's
/// location), so that rules between settings can point at the right token.
struct ResolvedCell {
    let config: ExperimentConfig
    let locations: [String: SourceLocation]

    /// The location of the first of `keys` that the file sets, else the file's start.
    func location(_ keys: String...) -> SourceLocation {
        for key in keys { if let location = locations[key] { return location } }
        return .fileStart
    }
}

/// Expands the sweeps of a spec into cells: the cartesian product of the
/// sweep lines in file order, the first varying slowest (like nested loops
/// written in file order), then the seeds innermost.
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
            config.seed = seeds[digits[radices.count - 1]]
            config.sweptKeys = sweptKeys
            let cell = ResolvedCell(config: config, locations: locations)
            try SpecRules.checkCell(cell)
            cells.append(cell)
            advance(&digits, radices: radices)
        }
        return cells
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
