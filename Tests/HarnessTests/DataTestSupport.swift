import Foundation
import XCTest
import Charts
import Datasets
import Experiment
import Reports
import SpecFormat

/// A test case with a fresh temporary directory for the files its tests write.
class DataFileTestCase: XCTestCase {
    private(set) var directory = URL(fileURLWithPath: "/")

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("bnlab-data-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: directory)
    }

    /// Writes `bytes` to `name` in the temporary directory and returns its path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// Writes UTF-8 `text` to `name` in the temporary directory and returns its path.
    @discardableResult
    func write(_ name: String, text: String) throws -> String { try write(name, Array(text.utf8)) }
}

/// Asserts that `body` throws a ``DatasetError`` at `path` (and `line`, `column` when given, nil
/// meaning "absent") whose message contains `message` (any message when `message` is empty);
/// returns the error.
@discardableResult
func assertDatasetError<T>(_ body: @autoclosure () throws -> T, path: String, line: Int? = nil,
                           column: Int? = nil, message: String,
                           file: StaticString = #filePath, sourceLine: UInt = #line) -> DatasetError? {
    do {
        _ = try body()
        XCTFail("expected a DatasetError containing '\(message)', got no error", file: file, line: sourceLine)
        return nil
    } catch let error as DatasetError {
        XCTAssertEqual(error.path, path, "\(error)", file: file, line: sourceLine)
        XCTAssertEqual(error.line, line, "\(error)", file: file, line: sourceLine)
        XCTAssertEqual(error.column, column, "\(error)", file: file, line: sourceLine)
        XCTAssertTrue(message.isEmpty || error.message.contains(message), "'\(error)' lacks '\(message)'", file: file, line: sourceLine)
        return error
    } catch {
        XCTFail("expected a DatasetError, got \(error)", file: file, line: sourceLine)
        return nil
    }
}

/// A minimal gzip writer for tests: stored (uncompressed) DEFLATE blocks of at most 65,535
/// bytes, so loaders can be tested on gzipped files without a compressor.
enum StoredGzip {
    static func compress(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255]
        var offset = 0
        repeat {
            let length = min(65535, data.count - offset)
            out.append(offset + length == data.count ? 1 : 0)
            out += littleEndian(UInt32(length), bytes: 2) + littleEndian(UInt32(~length & 0xFFFF), bytes: 2)
            out += data[offset..<(offset + length)]
            offset += length
        } while offset < data.count
        return out + littleEndian(crc32(data), bytes: 4) + littleEndian(UInt32(truncatingIfNeeded: data.count), bytes: 4)
    }

    /// Bitwise CRC-32 (reflected 0xEDB88320), independent of zlib's, which checks it.
    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func littleEndian(_ value: UInt32, bytes: Int) -> [UInt8] {
        (0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) }
    }
}
