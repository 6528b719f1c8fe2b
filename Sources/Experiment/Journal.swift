import Datasets
import Foundation
import TensorCore

/// The append-only record of a sweep's finished cells, so a killed sweep resumes.
///
/// Format: line 1 is `bnlab-journal v1 spec=<name> hash=<resolved-spec-hash> build=<build>`,
/// where `<build>` is the identity of the bnlab build that computed the cells (16 hex digits, a
/// hash of its sources: `BNLab.buildIdentity`); journals written before builds were recorded have
/// no `build=` field and read with an empty ``Contents/build``. Every further line is one
/// ``CellRecord`` as compact JSON (sorted keys) followed by a tab and the FNV-1a 64 checksum
/// of the JSON in hex. Each append is one `write(2)`,
/// `fsync`ed before the next cell starts. The record's `seed` is a JSON integer in
/// 0 ... 2^64 - 1 (a `UInt64`, as the spec's `seeds`).
///
/// Reading tolerates what a `kill -9` can leave behind:
/// - a last line without its final newline (a torn write) is dropped;
/// - the first line whose checksum does not match, or whose JSON does not parse, is
///   dropped together with everything after it;
/// - an empty file, or one holding only part of the header line (killed while the
///   journal was being created), reads as a journal without header or records.
/// ``Contents/validBytes`` is the length of the prefix kept, so that the file can be
/// truncated to it before the next append. A first line that is complete but not a
/// journal header is an error.
public final class Journal: @unchecked Sendable {  // Sendable: one writer at a time (Sweep appends under its lock)
    /// What a journal file holds.
    public struct Contents: Equatable {
        /// The spec name and resolved-spec hash of the header; empty when the file
        /// has no complete header line (``hasHeader`` is false).
        public var specName: String
        public var hash: String
        /// The identity of the build that wrote the journal; empty when the header has no
        /// `build=` field (an older bnlab) or there is no header.
        public var build: String
        /// The valid records, in file order.
        public var records: [CellRecord]
        /// Lines (complete or torn) that were dropped as torn or corrupt.
        public var droppedLines: Int
        /// Byte length of the valid prefix (header and kept records).
        public var validBytes: Int

        /// Whether the file has a complete header line.
        public var hasHeader: Bool { !hash.isEmpty }
    }

    /// A journal that cannot be read (not a journal) or written (I/O), naming the file.
    public struct JournalError: Error, CustomStringConvertible {
        public let path: String
        public let message: String
        public var description: String { "\(path): error: \(message)" }
    }

    public let path: String
    private let fd: Int32

    /// Opens `path` for appending, creating it (and its directory) when missing. When
    /// `validBytes` is given the file is first truncated to that length (drops a torn
    /// tail, or everything with 0). The header, naming `build`, is written when the file is then empty.
    public init(path: String, specName: String, hash: String, build: String, truncateTo validBytes: Int? = nil) throws {
        self.path = path
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
        } catch {
            throw JournalError(path: path, message: "cannot create the journal's directory: \(error.localizedDescription)")
        }
        fd = open(path, O_WRONLY | O_CREAT, 0o644)
        guard fd >= 0 else { throw JournalError(path: path, message: "cannot open journal: \(String(cString: strerror(errno)))") }
        if let validBytes, ftruncate(fd, off_t(validBytes)) != 0 {
            // deinit closes fd: every stored property is set
            throw JournalError(path: path, message: "cannot truncate journal: \(String(cString: strerror(errno)))")
        }
        let size = lseek(fd, 0, SEEK_END)
        if size == 0 { try append(line: Self.header(specName: specName, hash: hash, build: build)) }
    }

    deinit { close(fd) }

    /// Line 1 of a journal.
    public static func header(specName: String, hash: String, build: String) -> String {
        "\(headerPrefix)spec=\(specName) hash=\(hash) build=\(build)"
    }

    /// What every header starts with.
    static let headerPrefix = "bnlab-journal v1 "

    /// One record as its journal line (without the newline): JSON, tab, checksum.
    public static func line(for record: CellRecord) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(record), as: UTF8.self)
        return json + "\t" + checksum(json)
    }

    /// The whole text of a journal holding `records` (header, then a line per record).
    public static func text(specName: String, hash: String, build: String, records: [CellRecord]) throws -> String {
        try ([header(specName: specName, hash: hash, build: build)] + records.map(line(for:))).map { $0 + "\n" }.joined()
    }

    /// Appends one record durably (written and `fsync`ed when this returns).
    public func append(_ record: CellRecord) throws {
        try append(line: Self.line(for: record))
    }

    private func append(line: String) throws {
        let bytes = Array((line + "\n").utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress!, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw JournalError(path: path, message: "cannot append to journal: \(String(cString: strerror(errno)))")
        }
    }

    /// Replaces line 1 of the journal at `path` with a header naming `build`, keeping the first
    /// `validBytes` bytes' records byte for byte and dropping what follows them (a torn tail). The new
    /// file is written beside the old one, `fsync`ed and renamed over it, so a kill leaves one or the other.
    /// Returns the new file's length.
    @discardableResult
    public static func rewriteHeader(path: String, specName: String, hash: String, build: String,
                                     validBytes: Int) throws -> Int {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JournalError(path: path, message: "cannot read journal")
        }
        let bytes = [UInt8](data.prefix(validBytes))
        let records = bytes.firstIndex(of: UInt8(ascii: "\n")).map { bytes[($0 + 1)...] } ?? []
        let text = Array((header(specName: specName, hash: hash, build: build) + "\n").utf8) + records
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw JournalError(path: path, message: "cannot rewrite journal: \(String(cString: strerror(errno)))") }
        let written = text.withUnsafeBytes { Foundation.write(fd, $0.baseAddress!, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == text.count, synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw JournalError(path: path, message: "cannot rewrite journal: \(reason)")
        }
        return text.count
    }

    /// FNV-1a 64 of the UTF-8 bytes, as 16 hex digits.
    public static func checksum(_ text: String) -> String {
        FNV1a.hex(FNV1a.hash64(text))
    }

    /// Reads a journal; nil when the file does not exist.
    /// - Throws: ``JournalError`` when the first line is complete but not a journal header.
    public static func read(path: String) throws -> Contents? {
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
            // No complete line: empty, or killed while writing the header.
            let text = String(decoding: bytes, as: UTF8.self)
            guard headerPrefix.hasPrefix(text) || text.hasPrefix(headerPrefix) else {
                throw JournalError(path: path, message: "not a bnlab journal (it starts '\(text.prefix(40))'); "
                                   + "delete it or run with --fresh")
            }
            return Contents(specName: "", hash: "", build: "", records: [], droppedLines: tornTail, validBytes: 0)
        }
        let headerParts = first.text.split(separator: " ", omittingEmptySubsequences: false)
        // 4 fields before builds were recorded, 5 since.
        guard headerParts.count == 4 || headerParts.count == 5, first.text.hasPrefix(headerPrefix),
              headerParts[2].hasPrefix("spec="), headerParts[3].hasPrefix("hash="), headerParts[3].count > 5,
              headerParts.count == 4 || (headerParts[4].hasPrefix("build=") && headerParts[4].count > 6) else {
            throw JournalError(path: path, message: "not a bnlab journal (line 1: '\(first.text.prefix(60))'); "
                               + "delete it or run with --fresh")
        }
        var contents = Contents(specName: String(headerParts[2].dropFirst(5)), hash: String(headerParts[3].dropFirst(5)),
                                build: headerParts.count == 5 ? String(headerParts[4].dropFirst(6)) : "",
                                records: [], droppedLines: tornTail, validBytes: first.end)
        let decoder = JSONDecoder()
        for (index, line) in lines.dropFirst().enumerated() {
            let parts = line.text.split(separator: "\t", omittingEmptySubsequences: false)
            guard parts.count == 2, checksum(String(parts[0])) == parts[1],
                  let record = try? decoder.decode(CellRecord.self, from: Data(parts[0].utf8)) else {
                contents.droppedLines += lines.count - 1 - index
                break
            }
            contents.records.append(record)
            contents.validBytes = line.end
        }
        return contents
    }
}
