import Foundation

/// Pure-Swift decompression of DEFLATE (RFC 1951) and its gzip container (RFC 1952),
/// so that datasets can ship compressed without a zlib dependency.
///
/// Every error is a ``DatasetError`` naming `source` (the file path) and the
/// compressed byte near which decoding failed.
public enum Inflate {
    /// Decodes one raw DEFLATE stream (no zlib or gzip wrapper); bytes after it are ignored.
    public static func inflate(_ bytes: [UInt8], source: String = "<memory>") throws -> [UInt8] {
        try bytes.withUnsafeBufferPointer { input in
            var inflater = Inflater(input: input, position: 0, source: source, capacityHint: input.count * 4)
            defer { inflater.release() }
            try inflater.inflateStream()
            return inflater.result
        }
    }

    /// Decodes gzip data: one or more members (concatenated files decode to the concatenation
    /// of their contents), each with its header flags FEXTRA, FNAME, FCOMMENT and FHCRC honoured,
    /// and its CRC-32 and ISIZE (length mod 2^32) checked. Zero bytes after the last member are
    /// ignored, as gzip(1) does; any other trailing data is an error.
    public static func gunzip(_ bytes: [UInt8], source: String = "<memory>") throws -> [UInt8] {
        try bytes.withUnsafeBufferPointer { input in
            guard input.count >= 2, input[0] == 0x1F, input[1] == 0x8B else {
                let found = input.prefix(2).map { hex($0) }.joined(separator: " ")
                throw DatasetError(path: source, message: "not gzip data: starts with [\(found)], expected [1f 8b]")
            }
            // The last member's ISIZE is the whole output for a single member: a good first guess.
            let sizeHint = input.count >= 18 ? Int(littleEndian32(input, input.count - 4)) : 0
            var inflater = Inflater(input: input, position: 0, source: source,
                                    capacityHint: min(sizeHint, input.count * 1032))
            defer { inflater.release() }
            repeat {
                try decodeMember(&inflater, input)
            } while try hasAnotherMember(input, after: inflater.position, source: source)
            return inflater.result
        }
    }

    /// The contents of the file at `path`, gunzipped when it starts with the gzip magic `1f 8b`.
    public static func readMaybeGzipped(path: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DatasetError(path: path, message: "no such file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError(path: path, message: "cannot read file")
        }
        let bytes = [UInt8](data)
        if bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B {
            return try gunzip(bytes, source: path)
        }
        return bytes
    }

    // MARK: gzip members

    private static let flagHeaderCRC: UInt8 = 0x02, flagExtra: UInt8 = 0x04
    private static let flagName: UInt8 = 0x08, flagComment: UInt8 = 0x10

    /// Reads the member header at `inflater.position`, inflates its data and checks its trailer.
    private static func decodeMember(_ inflater: inout Inflater, _ input: UnsafeBufferPointer<UInt8>) throws {
        let source = inflater.source, start = inflater.position
        func fail(_ message: String) -> DatasetError {
            DatasetError(path: source, message: "gzip member at byte \(start): \(message)")
        }
        guard input.count - start >= 10 else { throw fail("truncated header") }
        guard input[start] == 0x1F, input[start + 1] == 0x8B else {
            throw fail("bad magic [\(hex(input[start])) \(hex(input[start + 1]))], expected [1f 8b]")
        }
        guard input[start + 2] == 8 else { throw fail("compression method \(input[start + 2]) is not deflate (8)") }
        let flags = input[start + 3]
        guard flags & 0xE0 == 0 else { throw fail("reserved header flag bits set (flags \(hex(flags)))") }
        var cursor = start + 10
        if flags & flagExtra != 0 {
            guard input.count - cursor >= 2 else { throw fail("truncated FEXTRA length") }
            let extraLength = Int(input[cursor]) | Int(input[cursor + 1]) << 8
            guard input.count - cursor - 2 >= extraLength else { throw fail("truncated FEXTRA field") }
            cursor += 2 + extraLength
        }
        for (flag, field) in [(flagName, "FNAME"), (flagComment, "FCOMMENT")] where flags & flag != 0 {
            guard let zero = input[cursor...].firstIndex(of: 0) else { throw fail("unterminated \(field) field") }
            cursor = zero + 1
        }
        if flags & flagHeaderCRC != 0 {
            guard input.count - cursor >= 2 else { throw fail("truncated FHCRC field") }
            let stored = UInt32(input[cursor]) | UInt32(input[cursor + 1]) << 8
            let actual = CRC32.checksum(input.baseAddress! + start, count: cursor - start) & 0xFFFF
            guard stored == actual else { throw fail("header CRC16 \(stored) does not match computed \(actual)") }
            cursor += 2
        }
        inflater.position = cursor
        let outputStart = inflater.outputCount
        try inflater.inflateStream()
        let trailer = inflater.position
        guard input.count - trailer >= 8 else { throw fail("truncated trailer (CRC-32 and ISIZE)") }
        let storedCRC = littleEndian32(input, trailer), storedSize = littleEndian32(input, trailer + 4)
        let size = inflater.outputCount - outputStart
        let crc = CRC32.checksum(inflater.output + outputStart, count: size)
        guard crc == storedCRC else {
            throw fail("CRC-32 mismatch: trailer says \(hex32(storedCRC)), data has \(hex32(crc))")
        }
        guard UInt32(truncatingIfNeeded: size) == storedSize else {
            throw fail("ISIZE mismatch: trailer says \(storedSize) bytes, data has \(size)")
        }
        inflater.position = trailer + 8
    }

    /// True when another member starts at `offset`; false at the end or before zero padding.
    private static func hasAnotherMember(_ input: UnsafeBufferPointer<UInt8>, after offset: Int,
                                         source: String) throws -> Bool {
        let rest = input[offset...]
        if rest.allSatisfy({ $0 == 0 }) { return false }
        guard rest.count >= 2, rest.first == 0x1F, rest.dropFirst().first == 0x8B else {
            throw DatasetError(path: source, message: "\(rest.count) bytes of trailing garbage after the gzip data "
                + "at byte \(offset)")
        }
        return true
    }

    private static func littleEndian32(_ input: UnsafeBufferPointer<UInt8>, _ offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(input[offset + $1]) << (8 * UInt32($1)) }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }

    private static func hex32(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }
}
