import Foundation
import Harness
import TensorCore

/// `bnlab run`: runs specs (all cells, or one shard), journaling each finished cell,
/// resuming from the journal, and writing the tables, charts and report.
enum RunExecution {
    static func execute(_ command: RunCommand) throws -> Int32 {
        let specs = try SpecFiles.load(command.specs)
        Sweep.installSignalHandlers()
        for spec in specs {
            let threads = spec.cells().first?.threads ?? 1
            BLAS.setThreads(threads)
            let cores = ProcessInfo.processInfo.activeProcessorCount
            let jobs = command.jobs ?? max(1, cores / threads)
            let tasks = SpecFiles.tasks(spec, quick: command.quick, shard: command.shard)
            let journalPath = SpecFiles.journalPath(directory: command.outputDirectory, spec: spec.name,
                                                    quick: command.quick, shard: command.shard)
            let hash = spec.resolvedHash(quick: command.quick)
            if command.fresh { try? FileManager.default.removeItem(atPath: journalPath) }
            var done: [CellRecord] = []
            var validBytes: Int? = nil
            do {
                if let (contents, valid) = try Journal.read(path: journalPath) {
                    if contents.hash != hash {
                        let stale = journalPath + ".stale"
                        try? FileManager.default.removeItem(atPath: stale)
                        try FileManager.default.moveItem(atPath: journalPath, toPath: stale)
                        Console.err("bnlab: \(spec.name): the spec changed since its journal was written; starting over (old journal kept as \(stale))")
                    } else {
                        let keys = Set(tasks.map(\.key))
                        done = contents.records.filter { keys.contains($0.key) }
                        validBytes = valid
                        if contents.droppedLines > 0 {
                            Console.err("bnlab: \(journalPath): dropped \(contents.droppedLines) torn or corrupt line(s) at the end")
                        }
                        if !done.isEmpty { Console.err("bnlab: \(spec.name): resuming, \(done.count) of \(tasks.count) cells already done") }
                    }
                }
            } catch let error as Journal.JournalError {
                throw CommandFailure.input(error.description)
            }
            let journal = try Journal(path: journalPath, specName: spec.name, hash: hash, truncateTo: validBytes)
            let reporter = ProgressReporter(totalCells: tasks.count, alreadyDone: done.count,
                                            style: ProgressReporter.standardErrorStyle(quiet: command.quiet))
            let sweep = Sweep(jobs: jobs)
            let epochs = spec.cells(quick: command.quick).first?.epochs ?? 1
            let result: (records: [CellRecord], interrupted: Bool)
            do {
                result = try sweep.run(tasks: tasks, done: done, journal: journal) { event in
                    switch event {
                    case .started(let task): reporter.cellStarted("\(spec.name) \(task.key)")
                    case .epoch(let task, let epoch): reporter.epochFinished("\(spec.name) \(task.key)", epoch: epoch, of: epochs)
                    case .finished(let task, let record, _, _):
                        let summary = ["test_acc_eval_mode", "test_acc_train_mode"].compactMap { column -> String? in
                            guard let v = record.metric(column), !v.isEmpty else { return nil }
                            return "\(column == "test_acc_eval_mode" ? "eval" : "train-mode") \(v)%"
                        }.joined(separator: ", ")
                        reporter.cellFinished("\(spec.name) \(task.key)", outcome: record.metric("status") ?? "?",
                                              seconds: Double(record.wallSeconds) ?? 0, summary: summary)
                    }
                }
            } catch let error as DatasetError {
                reporter.finish()
                throw CommandFailure.input(error.description)
            }
            reporter.finish()
            if result.interrupted {
                if command.shard == nil {
                    try SpecOutputs.write(spec: spec, records: result.records, directory: command.outputDirectory, quick: command.quick)
                }
                let again = (["bnlab", "run"] + command.specs + (command.quick ? ["--quick"] : [])
                             + (command.shard.map { ["--shard", $0.description] } ?? [])
                             + ["--out", command.outputDirectory]).joined(separator: " ")
                throw CommandFailure.run("bnlab: interrupted: \(spec.name): \(result.records.count) of \(tasks.count) cells done and journaled; tables hold what is done. Resume with: \(again)")
            }
            if let shard = command.shard {
                Console.err("bnlab: \(spec.name): shard \(shard) done (\(result.records.count) cells) in \(journalPath); combine the shards with: bnlab merge \(spec.path) --out \(command.outputDirectory) JOURNAL...")
            } else {
                try SpecOutputs.write(spec: spec, records: result.records, directory: command.outputDirectory, quick: command.quick)
                Console.out("\(command.outputDirectory)/\(spec.name).csv: \(result.records.count) cells")
            }
        }
        return 0
    }
}
