import Foundation
import Charts
import Experiment
import Reports
import XCTest

/// The `bnlab` executable that the CLI-level tests spawn: `$BNLAB_BINARY` when set (the
/// Makefile points it at the release build), else the `bnlab` in the build products
/// directory that holds this test bundle (`swift test` builds the executable too).
enum BNLabBinary {
    /// The candidates, in order, and why each is one.
    static var candidates: [String] {
        if let path = ProcessInfo.processInfo.environment["BNLAB_BINARY"], !path.isEmpty { return [path] }
        let bundle = Bundle.main.bundleURL
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let testBundle = Bundle.allBundles.map(\.bundleURL).filter { $0.pathExtension == "xctest" }
        return ([bundle, bundle.deletingLastPathComponent(), executable]
                + testBundle.map { $0.deletingLastPathComponent() }).map { $0.appendingPathComponent("bnlab").path }
    }

    /// The executable's path; fails the test (never skips) when there is none.
    static func path(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        XCTFail("bnlab executable not found (looked at \(candidates.joined(separator: ", "))); build it with"
                + " 'swift build --product bnlab' or set BNLAB_BINARY", file: file, line: line)
        throw CocoaError(.fileNoSuchFile)
    }
}

/// How a child `bnlab` ended, with what it wrote.
struct BNLabOutcome {
    /// The exit status, or the signal number when `signaled`.
    var status: Int32
    var signaled: Bool
    var standardOutput: String
    var standardError: String

    /// The first line of standard error ("" when it wrote nothing).
    var firstErrorLine: String { String(standardError.split(separator: "\n", omittingEmptySubsequences: false).first ?? "") }
}

/// A `bnlab` child process whose output goes to files in its working directory (no pipes
/// to drain, so it can never block on a full pipe).
final class BNLabChild {
    let process = Process()
    private let outputPath: String
    private let errorPath: String

    /// Starts `bnlab arguments...` in `directory`.
    init(_ arguments: [String], in directory: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let tag = UUID().uuidString.prefix(8)
        outputPath = directory.appendingPathComponent(".stdout-\(tag)").path
        errorPath = directory.appendingPathComponent(".stderr-\(tag)").path
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: try BNLabBinary.path(file: file, line: line))
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle(forWritingAtPath: outputPath)
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Sends `signal` (SIGINT, SIGTERM, SIGKILL) to the child.
    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    var isRunning: Bool { process.isRunning }

    /// Waits for the child to end and collects its outcome.
    func wait() -> BNLabOutcome {
        process.waitUntilExit()
        let read = { (path: String) -> String in
            defer { try? FileManager.default.removeItem(atPath: path) }
            return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        }
        return BNLabOutcome(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
                            standardOutput: read(outputPath), standardError: read(errorPath))
    }

    /// Runs `bnlab arguments...` in `directory` to the end.
    static func run(_ arguments: [String], in directory: URL, file: StaticString = #filePath,
                    line: UInt = #line) throws -> BNLabOutcome {
        try BNLabChild(arguments, in: directory, file: file, line: line).wait()
    }
}

/// A scratch directory for one test, removed when the test ends.
func scratchDirectory(for test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bnlab-cli-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// The number of valid records in the journal at `path` (0 while it does not exist).
/// Reads a file another process is appending to: a torn last line is simply not counted.
func journalRecordCount(_ path: String) -> Int {
    ((try? Journal.read(path: path)) ?? nil)?.records.count ?? 0
}

/// Polls `condition` every millisecond until it holds or `seconds` pass; whether it held.
func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(1000)
    }
    return condition()
}
