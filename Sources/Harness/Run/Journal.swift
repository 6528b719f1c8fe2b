import Foundation

/// The append-only record of a sweep's finished cells, so a killed sweep resumes.
///
/// Format: line 1 is `bnlab-journal v1 spec=<name> hash=<resolved-spec-hash>`; every
/// further line is one ``CellRecord`` as compact JSON followed by a tab and the
/// FNV-1a 64 checksum of the JSON in hex. Each append is written with one
/// `write(2)` and `fsync`ed before the next cell starts. On reading, a line whose
/// checksum does not match, that does not parse, or that has no final newline
/// (a torn write from a kill) is dropped, and so is anything after it.
public final class Journal {
    public struct Contents: Equatable {
        public var specName: String
        public var hash: String
        public var records: [CellRecord]
        /// Lines that were dropped as torn or corrupt.
        public var droppedLines: Int
    }

    public struct JournalError: Error, CustomStringConvertible {
        public let path: String
        public let message: String
        public var description: String { "\(path): error: \(message)" }
    }

    public let path: String
    private let fd: Int32

    /// Opens `path` for appending, writing the header when the file is new or empty.
    /// When `validBytes` is given the file is first truncated to that length (drops a torn tail).
    public init(path: String, specName: String, hash: String, truncateTo validBytes: Int? = nil) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        fd = open(path, O_WRONLY | O_CREAT, 0o644)
        guard fd >= 0 else { throw JournalError(path: path, message: "cannot open journal: \(String(cString: strerror(errno)))") }
        if let validBytes { ftruncate(fd, off_t(validBytes)) }
        let size = lseek(fd, 0, SEEK_END)
        if size == 0 { try append(line: Self.header(specName: specName, hash: hash)) }
    }

    deinit { close(fd) }

    static func header(specName: String, hash: String) -> String { "bnlab-journal v1 spec=\(specName) hash=\(hash)" }

    /// Appends one record durably.
    public func append(_ record: CellRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(record), as: UTF8.self)
        try append(line: json + "\t" + Self.checksum(json))
    }

    private func append(line: String) throws {
        let bytes = Array((line + "\n").utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress!, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw JournalError(path: path, message: "cannot append to journal: \(String(cString: strerror(errno)))")
        }
    }

    /// FNV-1a 64 of the UTF-8 bytes, as 16 hex digits.
    public static func checksum(_ text: String) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Reads a journal; nil when the file does not exist. Also returns the byte length
    /// of the valid prefix (to truncate a torn tail before appending).
    public static func read(path: String) throws -> (contents: Contents, validBytes: Int)? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let bytes = [UInt8](data)
        var lines: [(text: String, end: Int)] = []
        var start = 0
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") {
            lines.append((String(decoding: bytes[start..<i], as: UTF8.self), i + 1))
            start = i + 1
        }
        let tornTail = start < bytes.count ? 1 : 0
        guard let first = lines.first else {
            throw JournalError(path: path, message: "journal has no header line; delete it or run with --fresh")
        }
        let headerParts = first.text.split(separator: " ")
        guard headerParts.count == 4, headerParts[0] == "bnlab-journal", headerParts[1] == "v1",
              headerParts[2].hasPrefix("spec="), headerParts[3].hasPrefix("hash=") else {
            throw JournalError(path: path, message: "not a bnlab journal (line 1: '\(first.text.prefix(60))'); delete it or run with --fresh")
        }
        var contents = Contents(specName: String(headerParts[2].dropFirst(5)), hash: String(headerParts[3].dropFirst(5)),
                                records: [], droppedLines: tornTail)
        var validBytes = first.end
        let decoder = JSONDecoder()
        for (index, line) in lines.dropFirst().enumerated() {
            let parts = line.text.split(separator: "\t", omittingEmptySubsequences: false)
            guard parts.count == 2, checksum(String(parts[0])) == parts[1],
                  let record = try? decoder.decode(CellRecord.self, from: Data(parts[0].utf8)) else {
                contents.droppedLines += lines.count - 1 - index
                break
            }
            contents.records.append(record)
            validBytes = line.end
        }
        return (contents, validBytes)
    }
}
