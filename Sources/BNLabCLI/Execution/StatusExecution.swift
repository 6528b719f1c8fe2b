import Foundation
import Harness

/// `bnlab status`: cells done / total of each spec's journal in the output directory.
enum StatusExecution {
    static func execute(_ command: StatusCommand) throws -> Int32 {
        let specs = try SpecFiles.load(command.specs, printWarnings: false)
        for spec in specs {
            let tasks = SpecFiles.tasks(spec, quick: false)
            let path = SpecFiles.journalPath(directory: command.outputDirectory, spec: spec.name, quick: false, shard: nil)
            var done = 0, note = ""
            if let (contents, _) = try? Journal.read(path: path) {
                if contents.hash == spec.resolvedHash(quick: false) {
                    let keys = Set(tasks.map(\.key))
                    done = Set(contents.records.map(\.key)).intersection(keys).count
                } else {
                    note = " (journal is from an earlier version of the spec; the next run starts over)"
                }
            } else {
                note = " (no journal in \(command.outputDirectory))"
            }
            Console.out("\(spec.name): \(done)/\(tasks.count) cells done\(note)")
        }
        return 0
    }
}
