import Foundation
import Charts
import Datasets
import Experiment
import Reports
import SpecFormat
import TensorCore

/// `bnlab run`: runs specs (all cells, or one shard), journaling each finished cell,
/// resuming from the journal, and writing the tables, charts and report.
///
/// Order of work: every spec is parsed and its data checked before anything is
/// written, so bad input (status 2) leaves no output. Then, spec by spec, the journal
/// is opened (resuming what it holds; a journal of another version of the spec, or of
/// another build of bnlab unless `--keep-stale`, is moved aside and the spec starts over:
/// see ``JournalResume``), the missing cells run, and the tables and their provenance are
/// written. SIGINT / SIGTERM finish the cells in flight, write the tables of what is
/// done and end with status 1 and the command that resumes.
enum RunExecution {
    static func execute(_ command: RunCommand) throws -> Int32 {
        if command.fresh && command.keepStale {
            let error = UsageError("--keep-stale resumes a journal and --fresh empties it: give one of them", command: "run")
            throw CommandFailure(message: error.description, status: UsageError.exitStatus)
        }
        let specs = try SpecFiles.load(command.specs)
        // One data cache per spec: the files its check loads are what its sweep uses.
        let data = specs.map { _ in DataPreparation() }
        for (spec, data) in zip(specs, data) { try SpecFiles.checkData(spec, quick: command.quick, data: data) }
        Sweep.installSignalHandlers()
        for (spec, data) in zip(specs, data) { try run(spec, command, data: data) }
        return 0
    }

    private static func run(_ spec: Spec, _ command: RunCommand, data: DataPreparation) throws {
        // Each cell starts on `threads` threads; without --jobs the run fills the machine: cores / threads
        // jobs, and the last cells share the cores the finished jobs leave (Sweep). --jobs N keeps to
        // N * threads (several runs side by side, one per shard).
        let threads = spec.threads
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let jobs = command.jobs ?? max(1, cores / threads)
        let cells = SpecFiles.cells(spec, quick: command.quick, shard: command.shard)
        let journalPath = SpecFiles.journalPath(directory: command.outputDirectory, spec: spec.name,
                                                quick: command.quick, shard: command.shard)
        let resume: JournalResume
        do {
            resume = try JournalResume.open(path: journalPath, specName: spec.name,
                                            hash: spec.resolvedHash(quick: command.quick), build: BNLab.buildIdentity,
                                            fresh: command.fresh, keepStale: command.keepStale)
        } catch let error as Journal.JournalError {
            throw CommandFailure.input(error.description)
        }
        switch resume.staleness {
        case .specChanged(let stale):
            Console.err("bnlab: \(spec.name): the spec changed since its journal was written; starting over"
                        + " (old journal kept as \(stale))")
        case .otherBuild(let build, let stale):
            Console.err("bnlab: \(spec.name): its journal was written by another build of bnlab (\(describe(build: build))"
                        + "; this is build \(BNLab.buildIdentity)); starting over (old journal kept as \(stale);"
                        + " --keep-stale resumes it instead)")
        case .otherBuildKept(let build):
            Console.err("bnlab: \(spec.name): its journal was written by another build of bnlab (\(describe(build: build))"
                        + "; this is build \(BNLab.buildIdentity)); resuming it anyway (--keep-stale):"
                        + " its cells now count as this build's")
        case nil: break
        }
        if resume.droppedLines > 0 {
            Console.err("bnlab: \(journalPath): dropped \(resume.droppedLines) torn or corrupt line(s) at the end")
        }
        let keys = Set(cells.map(\.key))
        let done = resume.records.filter { keys.contains($0.key) }
        if !done.isEmpty { Console.err("bnlab: \(spec.name): resuming, \(done.count) of \(cells.count) cells already done") }

        let reporter = ProgressReporter(totalCells: cells.count, alreadyDone: done.count,
                                        style: ProgressReporter.standardErrorStyle(quiet: command.quiet))
        let result: (records: [CellRecord], interrupted: Bool)
        do {
            result = try Sweep(jobs: jobs, threadsPerCell: threads, cores: command.jobs == nil ? cores : nil,
                               data: data).run(cells: cells, done: done, journal: resume.journal) { event in
                report(event, spec: spec.name, to: reporter)
            }
        } catch let error as DatasetError {
            reporter.finish()
            throw CommandFailure.input(error.description)
        } catch let error as Journal.JournalError {
            reporter.finish()
            throw CommandFailure.run(error.description)
        }
        reporter.finish()
        if result.interrupted {
            if command.shard == nil {
                try SpecOutputs.write(spec: spec, records: result.records, directory: command.outputDirectory,
                                      quick: command.quick)
            }
            throw CommandFailure.run("bnlab: interrupted: \(spec.name): \(result.records.count) of \(cells.count)"
                                     + " cells done and journaled in \(journalPath)"
                                     + (command.shard == nil ? "; the tables hold them" : "")
                                     + ". To resume, run the same command again: \(resumeCommand(command))")
        }
        if let shard = command.shard {
            Console.err("bnlab: \(spec.name): shard \(shard) done (\(result.records.count) cells) in \(journalPath);"
                        + " combine the shards with: bnlab merge \(spec.path) --out \(command.outputDirectory) JOURNAL...")
        } else {
            try SpecOutputs.write(spec: spec, records: result.records, directory: command.outputDirectory,
                                  quick: command.quick)
            Console.out("\(command.outputDirectory)/\(spec.name).csv: \(result.records.count) cells")
        }
    }

    private static func report(_ event: Sweep.Event, spec: String, to reporter: ProgressReporter) {
        switch event {
        case .started(let cell): reporter.cellStarted("\(spec) \(cell.key)")
        case .epoch(let cell, let epoch, let epochs): reporter.epochFinished("\(spec) \(cell.key)", epoch: epoch, of: epochs)
        case .finished(let cell, let record, _, _):
            let summary = ["test_acc_eval_mode", "test_acc_train_mode"].compactMap { column -> String? in
                guard let v = record.metric(column), !v.isEmpty else { return nil }
                return "\(column == "test_acc_eval_mode" ? "eval" : "train-mode") \(v)%"
            }.joined(separator: ", ")
            reporter.cellFinished("\(spec) \(cell.key)", outcome: record.metric("status") ?? "?",
                                  seconds: Double(record.wallSeconds) ?? 0, summary: summary)
        }
    }

    /// `build 0123456789abcdef`, or `build not recorded` for an empty one (a journal header without
    /// `build=`, written by a bnlab from before build identities).
    static func describe(build: String) -> String {
        build.isEmpty ? "build not recorded" : "build \(build)"
    }

    /// The command line that resumes `command` (without `--fresh`, which would start over).
    static func resumeCommand(_ command: RunCommand) -> String {
        let words = ["bnlab", "run"] + command.specs + (command.quick ? ["--quick"] : [])
            + (command.shard.map { ["--shard", $0.description] } ?? [])
            + (command.jobs.map { ["--jobs", String($0)] } ?? [])
            + ["--out", command.outputDirectory]
        return words.map(shellQuoted).joined(separator: " ")
    }

    /// `word` as a POSIX shell reads it back: unchanged when it holds only safe characters,
    /// else in single quotes (a quote inside written `'\''`).
    static func shellQuoted(_ word: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
        if !word.isEmpty && word.allSatisfy(safe.contains) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
