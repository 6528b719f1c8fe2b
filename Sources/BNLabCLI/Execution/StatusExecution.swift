import Foundation
import Charts
import Experiment
import SpecFormat

/// `bnlab status`: cells done / total of each spec's run in the output directory, one
/// line per journal: the full run's always (`NAME: D/T cells done`), then those of
/// `--quick` runs and of shards that have a journal (`NAME --quick shard K/N: D/T ...`).
/// A journal of another version of the spec, or of another build of bnlab, counts no cell done
/// and says why. A file in the journal's place that is not a journal is reported (status 2).
enum StatusExecution {
    static func execute(_ command: StatusCommand) throws -> Int32 {
        let specs = try SpecFiles.load(command.specs, printWarnings: false)
        var status: Int32 = 0
        for spec in specs {
            for (quick, shard) in runs(of: spec.name, in: command.outputDirectory) {
                let path = SpecFiles.journalPath(directory: command.outputDirectory, spec: spec.name, quick: quick, shard: shard)
                let cells = SpecFiles.cells(spec, quick: quick, shard: shard)
                let label = spec.name + (quick ? " --quick" : "") + (shard.map { " shard \($0)" } ?? "")
                var done = 0, note = ""
                do {
                    if let contents = try Journal.read(path: path) {
                        let journaled = Set(contents.records.map(\.key)).intersection(cells.map(\.key)).count
                        if contents.hasHeader && contents.hash != spec.resolvedHash(quick: quick) {
                            note = " (its journal is from another version of the spec; the next run starts over)"
                        } else if contents.hasHeader && contents.build != BNLab.buildIdentity {
                            note = " (\(journaled) journaled by another build of bnlab, "
                                + "\(RunExecution.describe(build: contents.build)): the next run starts over,"
                                + " or resumes them with --keep-stale)"
                        } else {
                            done = journaled
                        }
                    } else {
                        note = " (no journal in \(command.outputDirectory))"
                    }
                } catch let error as Journal.JournalError {
                    Console.err(error.description)
                    status = 2
                    continue
                }
                Console.out("\(label): \(done)/\(cells.count) cells done\(note)")
            }
        }
        return status
    }

    /// The runs of `spec` to report: the full run, then every `--quick` or sharded run
    /// with a journal in `directory`, in name order.
    static func runs(of spec: String, in directory: String) -> [(quick: Bool, shard: Shard?)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/.journal")) ?? []
        var found: [(quick: Bool, shard: Shard?)] = []
        for name in names.sorted() where name.hasPrefix(spec + "-") && name.hasSuffix(".journal") {
            var rest = name.dropFirst(spec.count + 1).dropLast(".journal".count)
            let quick = rest.hasPrefix("quick")
            if quick { rest = rest.dropFirst("quick".count) }
            if rest.isEmpty { if quick { found.append((true, nil)) }; continue }
            if quick { guard rest.hasPrefix("-") else { continue }; rest = rest.dropFirst() }
            let parts = rest.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[0] == "shard", parts[2] == "of", let k = Int(parts[1]), let n = Int(parts[3]),
                  let shard = Shard(index: k, count: n) else { continue }
            found.append((quick, shard))
        }
        return [(false, nil)] + found
    }
}
