import CZlib
import Foundation

/// gzip decompression (RFC 1952) by the system zlib, so that datasets can ship compressed.
///
/// The one file that imports CZlib. Every error is a ``DatasetError`` naming `source` (the
/// file path); an error inside a member names the byte where that member starts:
///
///     PATH: error: gzip member at byte 0: CRC-32 mismatch: ... (zlib: incorrect data check)
///
/// zlib's own words for the problem close the message in parentheses.
public enum Gzip {
    /// Decodes gzip data: one or more members (concatenated files decode to the concatenation
    /// of their contents, as gunzip(1) does), each with its header flags FEXTRA, FNAME, FCOMMENT
    /// and FHCRC honoured, and its CRC-32 and ISIZE (length mod 2^32) checked. Zero bytes after
    /// the last member are ignored, as gzip(1) does; any other trailing data is an error.
    public static func gunzip(_ bytes: [UInt8], source: String = "<memory>") throws -> [UInt8] {
        guard bytes.count >= 2, bytes[0] == 0x1F, bytes[1] == 0x8B else {
            let found = bytes.prefix(2).map { hex($0) }.joined(separator: " ")
            throw DatasetError(path: source, message: "not gzip data: starts with [\(found)], expected [1f 8b]")
        }
        // The last member's ISIZE is the whole output for a single member: a good first guess,
        // capped at DEFLATE's largest expansion (1032:1) so that a damaged trailer cannot ask for more.
        let sizeHint = bytes.count >= 18 ? Int(bytes.suffix(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }) : 0
        var output = [UInt8](repeating: 0, count: max(min(sizeHint, bytes.count * 1032), 4096))
        var produced = 0
        // zlib keeps a pointer back to its z_stream, so the stream needs an address that stays put.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        let status = inflateInit2_(stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw DatasetError(path: source, message: "zlib cannot start decompressing (error \(status))")
        }
        defer { inflateEnd(stream) }
        try bytes.withUnsafeBufferPointer { input in
            var memberStart = 0
            repeat {
                if memberStart > 0 { inflateReset(stream) }
                try inflateMember(stream, input, from: memberStart, into: &output, produced: &produced,
                                  source: source)
                memberStart += Int(stream.pointee.total_in)
            } while try hasAnotherMember(input, after: memberStart, source: source)
        }
        output.removeSubrange(produced...)
        return output
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

    // MARK: Members

    /// Inflates the member starting at byte `start` of `input` (header, DEFLATE data and trailer,
    /// all checked by zlib), appending to `output[produced...]` and growing `output` as needed.
    /// Afterwards `stream.total_in` is the member's length in bytes.
    private static func inflateMember(_ stream: UnsafeMutablePointer<z_stream>, _ input: UnsafeBufferPointer<UInt8>,
                                      from start: Int, into output: inout [UInt8], produced: inout Int,
                                      source: String) throws {
        func fail(_ message: String) -> DatasetError {
            DatasetError(path: source, message: "gzip member at byte \(start): \(message)")
        }
        let memberOutputStart = produced
        var fed = start  // input bytes handed to zlib so far (avail_in is 32 bits: more goes in chunks)
        stream.pointee.avail_in = 0  // drop what the previous member left: it starts at `start`
        while true {
            if stream.pointee.avail_in == 0 && fed < input.count {
                let chunk = min(input.count - fed, Int(UInt32.max))
                stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + fed)
                stream.pointee.avail_in = UInt32(chunk)
                fed += chunk
            }
            if produced == output.count { output += repeatElement(0, count: output.count) }
            let status = output.withUnsafeMutableBufferPointer { out -> Int32 in
                let room = min(out.count - produced, Int(UInt32.max))
                stream.pointee.next_out = out.baseAddress! + produced
                stream.pointee.avail_out = UInt32(room)
                let status = inflate(stream, Z_NO_FLUSH)
                produced += room - Int(stream.pointee.avail_out)
                return status
            }
            switch status {
            case Z_STREAM_END:
                return
            case Z_OK:
                continue
            case Z_BUF_ERROR where stream.pointee.avail_in == 0 && fed == input.count:
                throw fail("truncated gzip stream: the input ends after \(input.count - start) bytes of "
                    + "this member, before its end")
            case Z_BUF_ERROR:
                continue  // the output was full: it grows on the next pass
            case Z_DATA_ERROR, Z_NEED_DICT:
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "error \(status)"
                switch reason {
                case "incorrect data check":
                    throw fail("CRC-32 mismatch: the decoded data does not match the checksum in the trailer "
                        + "(zlib: \(reason))")
                case "incorrect length check":
                    throw fail("ISIZE mismatch: the length in the trailer is not the \(produced - memberOutputStart) "
                        + "bytes decoded (zlib: \(reason))")
                case "header crc mismatch":
                    throw fail("header CRC16 does not match the header (zlib: \(reason))")
                default:
                    // The last byte zlib read: the damage is there or shortly before.
                    let position = start + max(Int(stream.pointee.total_in) - 1, 0)
                    throw fail("corrupt data near byte \(position) (zlib: \(reason))")
                }
            case Z_MEM_ERROR:
                throw fail("zlib ran out of memory")
            default:
                throw fail("zlib error \(status)")
            }
        }
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

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }
}
