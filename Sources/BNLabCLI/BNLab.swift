import Foundation
import Datasets
import TensorCore

/// The `bnlab` command line (kept as a library so tests can drive it).
///
/// Exit status: 0 success; 1 a run that did not complete (interrupted, or a merge
/// with missing cells); 2 bad usage or bad input (spec, dataset, journal).
public enum BNLab {
    public static let version = "0.1.0"

    /// This build's identity: 16 hex digits of FNV-1a 64 over the contents of Package.swift and of every
    /// file under Sources/, computed at build time (BuildIdentityPlugin, BuildIdentityTool). Any change to a
    /// source that can move a number changes it; journals are keyed by it (see ``JournalResume``).
    public static let buildIdentity = generatedBuildIdentity

    /// Runs the command line with `arguments` (without the program name); returns the exit status.
    public static func main(_ arguments: [String]) -> Int32 {
        // The main thread computes too (bench, export-data, one worker of a sweep): denormals flushed,
        // see FloatingPointMode; restored on return, for callers that run bnlab in-process (the tests).
        FloatingPointMode.withDenormalsFlushed { run(arguments) }
    }

    private static func run(_ arguments: [String]) -> Int32 {
        switch parseCommandLine(arguments) {
        case .help(let text):
            Console.out(text)
            return 0
        case .version:
            Console.out("bnlab \(version) (build \(buildIdentity))")
            return 0
        case .error(let error):
            Console.err(error.description)
            return UsageError.exitStatus
        case .command(let command):
            do {
                return try execute(command)
            } catch let failure as CommandFailure {
                Console.err(failure.message)
                return failure.status
            } catch {
                Console.err("bnlab: error: \(error)")
                return 2
            }
        }
    }

    static func execute(_ command: Command) throws -> Int32 {
        switch command {
        case .run(let c): return try RunExecution.execute(c)
        case .check(let c): return try CheckExecution.execute(c)
        case .list(let c): return try ListExecution.execute(c)
        case .report(let c): return try ReportExecution.execute(c)
        case .merge(let c): return try MergeExecution.execute(c)
        case .status(let c): return try StatusExecution.execute(c)
        case .new(let c): return try NewExecution.execute(c)
        case .bench(let c): return Bench.run(c)
        case .exportData(let c): return try ExportDataExecution.execute(c)
        case .exportTraining(let c): return try ExportTrainingExecution.execute(c)
        }
    }
}
