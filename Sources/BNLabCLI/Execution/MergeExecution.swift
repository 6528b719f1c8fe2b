import Foundation
import Harness

/// `bnlab merge`: combines shard journals into the tables one run writes, after
/// checking that every cell of the grid is there exactly once.
enum MergeExecution {
    static func execute(_ command: MergeCommand) throws -> Int32 {
        guard let spec = try SpecFiles.load([command.spec], printWarnings: false).first else { return 2 }
        var records: [String: CellRecord] = [:]
        var duplicates: [String] = []
        var quick: Bool?
        for path in command.journals {
            guard let (contents, _) = try readJournal(path) else {
                throw CommandFailure.input("\(path): error: no such journal")
            }
            let isQuick: Bool
            if contents.hash == spec.resolvedHash(quick: false) { isQuick = false }
            else if contents.hash == spec.resolvedHash(quick: true) { isQuick = true }
            else { throw CommandFailure.input("\(path): error: journal was written for another version of \(spec.name).spec") }
            if let q = quick, q != isQuick { throw CommandFailure.input("\(path): error: mixes --quick and full journals") }
            quick = isQuick
            if contents.droppedLines > 0 { Console.err("bnlab: \(path): dropped \(contents.droppedLines) torn line(s)") }
            for r in contents.records {
                if let existing = records[r.key] {
                    duplicates.append(r.key)
                    if existing.metrics != r.metrics {
                        throw CommandFailure.input("\(path): error: cell '\(r.key)' appears twice with different results")
                    }
                } else {
                    records[r.key] = r
                }
            }
        }
        let tasks = SpecFiles.tasks(spec, quick: quick ?? false)
        let missing = tasks.filter { records[$0.key] == nil }.map(\.key)
        if !duplicates.isEmpty { Console.err("bnlab: merge: \(duplicates.count) duplicated cell(s) with identical results, kept once: \(duplicates.prefix(5).joined(separator: "; "))") }
        guard missing.isEmpty else {
            throw CommandFailure.run("bnlab: merge: \(missing.count) of \(tasks.count) cells missing, nothing written; first: \(missing.prefix(5).joined(separator: "; "))")
        }
        try SpecOutputs.write(spec: spec, records: tasks.compactMap { records[$0.key] }, directory: command.outputDirectory,
                              quick: quick ?? false)
        Console.out("\(command.outputDirectory)/\(spec.name).csv: \(tasks.count) cells merged from \(command.journals.count) journal(s)")
        return 0
    }

    static func readJournal(_ path: String) throws -> (Journal.Contents, Int)? {
        do { return try Journal.read(path: path) } catch let e as Journal.JournalError { throw CommandFailure.input(e.description) }
    }
}
