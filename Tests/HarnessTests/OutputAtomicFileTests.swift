import Foundation
import Charts
import Experiment
import Reports
import SpecFormat
import XCTest

/// `AtomicFile.write`: whole files or nothing, by rename over the target.
final class OutputAtomicFileTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("bnlab-atomic-\(UUID().uuidString)").path
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func entries(_ path: String) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }

    func testWritesCreatingTheDirectories() throws {
        let path = directory + "/a/b/out.csv"
        try AtomicFile.write("x,y\n1,2\n", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "x,y\n1,2\n")
        try AtomicFile.write([0, 255, 10], to: directory + "/a/bytes.bin")
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/a/bytes.bin"))), [0, 255, 10])
        try AtomicFile.write("", to: directory + "/a/empty.txt")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: directory + "/a/empty.txt")).count, 0)
        XCTAssertEqual(try entries(directory + "/a"), ["b", "bytes.bin", "empty.txt"], "no temporary files left")
    }

    /// A reader that opened the old file keeps reading the old bytes whole: the new file is
    /// a new inode renamed over the name, never the old one rewritten in place.
    func testReplacesByRename() throws {
        let path = directory + "/table.csv"
        try AtomicFile.write("old contents\n", to: path)
        let reader = try XCTUnwrap(FileHandle(forReadingAtPath: path))
        defer { try? reader.close() }
        let longer = String(repeating: "new contents\n", count: 1000)
        try AtomicFile.write(longer, to: path)
        XCTAssertEqual(String(decoding: reader.readDataToEndOfFile(), as: UTF8.self), "old contents\n")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), longer)
        XCTAssertEqual(try entries(directory), ["table.csv"])
    }

    func testADirectoryThatCannotBeCreatedIsAnErrorNamingThePath() throws {
        // a regular file where a directory is needed: fails for every user, root included
        try AtomicFile.write("I am a file\n", to: directory + "/blocker")
        let path = directory + "/blocker/sub/out.csv"
        XCTAssertThrowsError(try AtomicFile.write("x\n", to: path)) { error in
            let description = "\(error)"
            XCTAssertTrue(description.hasPrefix("\(path): error: cannot write"), description)
        }
        XCTAssertEqual(try entries(directory), ["blocker"])
    }

    func testAFailedRenameSaysWhyAndLeavesNoTemporaryFile() throws {
        // the target is an existing (non-empty) directory: the rename fails
        let target = directory + "/out.csv"
        try FileManager.default.createDirectory(atPath: target + "/inside", withIntermediateDirectories: true)
        XCTAssertThrowsError(try AtomicFile.write("x\n", to: target)) { error in
            let description = "\(error)"
            XCTAssertTrue(description.hasPrefix("\(target): error: cannot write: "), description)
            XCTAssertTrue(description.contains(String(cString: strerror(EISDIR))), "the reason is the rename's: \(description)")
        }
        XCTAssertEqual(try entries(directory), ["out.csv"], "the temporary file is removed")
    }
}
