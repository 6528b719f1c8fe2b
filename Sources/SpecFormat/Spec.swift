import Foundation
import TensorCore

/// A parsed, validated experiment spec: the settings of one `.spec` file,
/// its grid and its warnings. See Experiments/README.md for the format.
///
/// Parsing validates every cell of the grid (and of the `--quick` grid), so
/// ``cells(quick:)`` cannot fail.
public struct Spec: Sendable {
    /// The path the spec was read from, as given.
    public let path: String
    /// The file name without its directory and `.spec` extension.
    public let name: String
    /// The fixed settings (`key value...` lines), in file order.
    public let settings: [SpecSetting]
    /// The grid axes (`sweep` lines), in file order: the first varies slowest.
    public let sweeps: [SpecSweep]
    /// The repetitions (`seeds`), the innermost axis; `[0]` when not given.
    public let seeds: [UInt64]
    /// The overrides of `quick KEY=VALUE ...` (without `seeds=`), in table order.
    public let quickSettings: [SpecSetting]
    /// The seeds under `--quick` (`quick seeds=...`), or nil to keep ``seeds``.
    public let quickSeeds: [UInt64]?
    /// The `quick_sweep` lines, in file order.
    public let quickSweeps: [SpecSweep]
    /// The `variant` lines, in file order (the `sweep variant` line chooses among them).
    public let variants: [SpecVariant]
    /// What looks wrong but is accepted, in file order.
    public let warnings: [SpecWarning]
    /// Whether the spec has a `convergence_check` line: cells after the grid's rerun with twice the budget.
    public let hasConvergenceCheck: Bool

    let grid: [ExperimentConfig]
    let quickGrid: [ExperimentConfig]

    init(path: String, parsed: ParsedSpec, warnings: [SpecWarning],
         grid: [ExperimentConfig], quickGrid: [ExperimentConfig]) {
        self.path = path
        let file = (path as NSString).lastPathComponent
        self.name = file.hasSuffix(".spec") ? String(file.dropLast(5)) : file
        self.settings = parsed.settings
        self.sweeps = parsed.sweeps
        self.seeds = parsed.seeds
        self.quickSettings = parsed.quickSettings
        self.quickSeeds = parsed.quickSeeds
        self.quickSweeps = parsed.quickSweeps
        self.variants = parsed.variants
        self.warnings = warnings
        self.hasConvergenceCheck = parsed.convergenceFilter != nil
        self.grid = grid
        self.quickGrid = quickGrid
    }

    /// Parses and validates the bytes of a spec file. `path` names the file in
    /// errors and resolves the relative paths of `dataset`.
    /// - Throws: ``SpecError`` at the first problem: problems within a line in
    ///   file order, then rules between lines, then rules within each cell in grid order.
    public static func parse(bytes: [UInt8], path: String) throws -> Spec {
        try SpecParser(path: path).parse(bytes)
    }

    /// Parses and validates spec text (see ``parse(bytes:path:)``).
    public static func parse(text: String, path: String) throws -> Spec {
        try parse(bytes: Array(text.utf8), path: path)
    }

    /// Reads and parses the spec file at `path`.
    /// - Throws: ``SpecError`` (at 1:1 when the file cannot be read).
    public static func load(path: String) throws -> Spec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SpecError(file: path, location: .fileStart, message: "cannot read the spec file")
        }
        return try parse(bytes: [UInt8](data), path: path)
    }

    /// The swept keys in file order (the columns of ``ExperimentConfig/cellKey()``
    /// before the seed); the same under `--quick`.
    public var sweptKeys: [String] { sweeps.map(\.key) }

    /// `threads`: the threads each cell of a run of this spec computes on. One value for every cell
    /// of both grids: the run's jobs are its cores divided by it, so the parser refuses it per cell.
    public var threads: Int { grid.first?.threads ?? ExperimentConfig().threads }

    /// Every cell in grid order: the sweeps like nested loops in file order
    /// (the first outermost), the seeds innermost. With `quick`, the `quick`
    /// overrides and `quick_sweep` values apply.
    public func cells(quick: Bool = false) -> [ExperimentConfig] {
        quick ? quickGrid : grid
    }

    /// The fixed setting of `key`, if the file sets it.
    public func setting(_ key: String) -> SpecSetting? {
        settings.first { $0.key == key }
    }

    /// FNV-1a 64 of the ``ExperimentConfig/canonicalDescription`` of every cell
    /// of the grid, in grid order, as 16 hex digits: equal for specs that
    /// resolve to the same cells, whatever their spelling, comments or order.
    /// Relative dataset paths count as written in the file (relative to the spec's
    /// directory), so the hash does not depend on how the spec's own path was
    /// spelt (`Experiments/a.spec`, `./Experiments/a.spec`): journals and shards
    /// written from either spelling match.
    public var resolvedHash: String { resolvedHash(quick: false) }

    /// ``resolvedHash`` of the grid or of the `--quick` grid.
    public func resolvedHash(quick: Bool) -> String {
        let slash = path.lastIndex(of: "/")
        let prefix = slash.map { String(path[...$0]) } ?? ""
        let descriptions = cells(quick: quick).map { cell -> String in
            var written = cell
            written.dataset = cell.dataset.stripping(directoryPrefix: prefix)
            return written.canonicalDescription
        }
        return FNV1a.hex(FNV1a.hash64(descriptions.joined()))
    }
}

/// One value given to a key: a fixed setting line, one value of a sweep, one
/// `quick KEY=VALUE`, or one `KEY=VALUE` of a `variant` line.
public struct SpecSetting: Sendable {
    /// The key.
    public let key: String
    /// The value words as written.
    public let words: [String]
    /// Where the key is written (for a sweep value: where the value is; for a
    /// `KEY=VALUE`: where KEY is).
    public let location: SourceLocation
    /// Where the value starts.
    public let valueLocation: SourceLocation
    /// The canonical text of the value (see ``ExperimentConfig/canonicalValue(of:)``).
    public let canonicalValue: String

    let assign: SettingAssignment
}

/// One axis of the grid: a `sweep KEY V1 V2 ...` (or `quick_sweep`) line.
public struct SpecSweep: Sendable {
    /// The swept key.
    public let key: String
    /// Where the key is written.
    public let location: SourceLocation
    /// The values in file order, each as a one-word setting of `key` (for
    /// `variant`: a variant's name, which the cell's overrides follow).
    public let values: [SpecSetting]
}
