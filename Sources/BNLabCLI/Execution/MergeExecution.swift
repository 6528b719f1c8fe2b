import Foundation
import Charts
import Datasets
import Experiment
import Reports
import SpecFormat

/// `bnlab merge`: combines shard journals into the tables one run writes, after
/// checking that every cell of the grid is there exactly once.
///
/// - A journal of another version of the spec or of another build of bnlab, a journal that mixes
///   `--quick` and full runs, or a cell present twice with different results: status 2, nothing written.
/// - Cells missing (a shard not given, or not finished): status 1, the missing cells
///   listed, nothing written.
/// - A cell present in several journals with identical results (a shard given twice):
///   reported on stderr and kept once.
/// On success the tables are written, and the merged journal goes to the place of an
/// unsharded run's (`DIR/.journal/<spec>.journal`), so `bnlab status` and `bnlab run`
/// see the run as complete.
enum MergeExecution {
    static func execute(_ command: MergeCommand) throws -> Int32 {
        guard let spec = try SpecFiles.load([command.spec], printWarnings: false).first else { return 2 }
        var records: [String: CellRecord] = [:]
        var duplicates: [String] = []
        var quick: Bool?
        for path in command.journals {
            let contents: Journal.Contents
            do {
                guard let read = try Journal.read(path: path) else {
                    throw CommandFailure.input("\(path): error: no such journal")
                }
                contents = read
            } catch let error as Journal.JournalError {
                throw CommandFailure.input(error.description)
            }
            if contents.droppedLines > 0 {
                Console.err("bnlab: \(path): dropped \(contents.droppedLines) torn or corrupt line(s) at the end")
            }
            guard contents.hasHeader else { continue }  // killed before its first cell: nothing in it
            let isQuick: Bool
            if contents.hash == spec.resolvedHash(quick: false) { isQuick = false }
            else if contents.hash == spec.resolvedHash(quick: true) { isQuick = true }
            else { throw CommandFailure.input("\(path): error: journal was written for another version of \(spec.path)") }
            guard contents.build == BNLab.buildIdentity else {
                throw CommandFailure.input("\(path): error: journal was written by another build of bnlab"
                                           + " (\(RunExecution.describe(build: contents.build)); this is build"
                                           + " \(BNLab.buildIdentity)); rerun its shard with this build")
            }
            if let q = quick, q != isQuick { throw CommandFailure.input("\(path): error: mixes --quick and full journals") }
            quick = isQuick
            for r in contents.records {
                if let existing = records[r.key] {
                    duplicates.append(r.key)
                    if existing.metrics != r.metrics || existing.statistics != r.statistics {
                        throw CommandFailure.input("\(path): error: cell '\(r.key)' appears twice with different results")
                    }
                } else {
                    records[r.key] = r
                }
            }
        }
        let isQuick = quick ?? false
        let cells = SpecFiles.cells(spec, quick: isQuick)
        let missing = cells.filter { records[$0.key] == nil }.map(\.key)
        if !duplicates.isEmpty {
            Console.err("bnlab: merge: \(duplicates.count) duplicated cell(s) with identical results, kept once: "
                        + duplicates.prefix(5).joined(separator: "; ") + (duplicates.count > 5 ? "; ..." : ""))
        }
        guard missing.isEmpty else {
            throw CommandFailure.run("bnlab: merge: \(missing.count) of \(cells.count) cells missing, nothing written;"
                                     + " missing: " + missing.prefix(5).joined(separator: "; ")
                                     + (missing.count > 5 ? "; ..." : ""))
        }
        let merged = cells.compactMap { records[$0.key] }
        try SpecOutputs.write(spec: spec, records: merged, directory: command.outputDirectory, quick: isQuick)
        let journalPath = SpecFiles.journalPath(directory: command.outputDirectory, spec: spec.name, quick: isQuick, shard: nil)
        try AtomicFile.write(Journal.text(specName: spec.name, hash: spec.resolvedHash(quick: isQuick),
                                          build: BNLab.buildIdentity, records: merged),
                             to: journalPath)
        Console.out("\(command.outputDirectory)/\(spec.name).csv: \(cells.count) cells merged from \(command.journals.count) journal(s)")
        return 0
    }
}
