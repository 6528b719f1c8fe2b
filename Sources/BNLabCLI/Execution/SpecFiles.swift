import Foundation
import Charts
import Datasets
import Experiment
import SpecFormat

/// Loading specs for the commands: every spec is parsed before any work starts,
/// so one bad spec among several writes nothing.
enum SpecFiles {
    /// Parses every path; a spec error becomes `FILE:LINE:COLUMN: error: ...` with status 2.
    /// Warnings go to stderr as `FILE:LINE:COLUMN: warning: ...`.
    static func load(_ paths: [String], printWarnings: Bool = true) throws -> [Spec] {
        var specs: [Spec] = []
        for path in paths {
            do {
                let spec = try Spec.load(path: path)
                if printWarnings { for w in spec.warnings { Console.err(w.description) } }
                specs.append(spec)
            } catch let error as SpecError {
                throw CommandFailure.input(error.description)
            } catch {
                throw CommandFailure.input("\(path): error: \(error)")
            }
        }
        let names = specs.map(\.name)
        if let duplicate = names.first(where: { n in names.filter { $0 == n }.count > 1 }) {
            throw CommandFailure.input("two specs are named '\(duplicate)'; their tables would overwrite each other")
        }
        return specs
    }

    /// Checks that the spec's file datasets load and are large enough for its splits
    /// (``DataCheck``); a problem becomes a one-line error with status 2. The datasets' warnings
    /// go to stderr as `FILE:LINE:COLUMN: warning: ...`.
    static func checkData(_ spec: Spec, quick: Bool, data: DataPreparation = DataPreparation()) throws {
        do {
            for warning in try DataCheck.check(spec, quick: quick, data: data) { Console.err(warning.description) }
        } catch let error as DatasetError {
            throw CommandFailure.input(error.description)
        } catch let error as SpecError {
            throw CommandFailure.input(error.description)
        }
    }

    /// The journal of a spec's run in `directory`.
    static func journalPath(directory: String, spec: String, quick: Bool, shard: Shard?) -> String {
        var name = spec
        if quick { name += "-quick" }
        if let shard { name += "-shard-\(shard.index)-of-\(shard.count)" }
        return "\(directory)/.journal/\(name).journal"
    }

    /// The cells of a spec (all of them, or one shard's: cells whose index % N == K - 1).
    static func cells(_ spec: Spec, quick: Bool, shard: Shard? = nil) -> [Cell] {
        spec.cells(quick: quick).enumerated().compactMap { index, config in
            if let shard, index % shard.count != shard.index - 1 { return nil }
            return Cell(config, index: index)
        }
    }
}
