import Foundation

/// A file in the safetensors format (Hugging Face's, the one `safetensors.torch.save_file` and
/// `load_file` use), read and written for the element types bnlab has: F32, I64, I32, U8.
///
/// Layout (offsets in bytes):
/// ```
/// 0 ..< 8          N, the header's length: unsigned 64-bit, little-endian
/// 8 ..< 8+N        the header: one JSON object, UTF-8, padded with spaces to a multiple of 8 bytes
///                  {"__metadata__":{"KEY":"VALUE",...},"NAME":{"dtype":"F32","shape":[2,3],"data_offsets":[BEGIN,END]},...}
/// 8+N ..< end      the data: each tensor's values row-major and little-endian at bytes BEGIN ..< END,
///                  counted from byte 8+N; the tensors cover the data exactly, without gaps or overlaps
/// ```
/// ``serialized()`` writes what the Python library (safetensors 0.8.0) writes for the same tensors, byte
/// for byte (Tests/NNTests/SafeTensorsTests.swift holds it to a file Python wrote): tensors laid out and
/// listed by element type in the library's order (I64, F32, I32, U8: its `Dtype` enum, descending), then
/// by name compared as UTF-8 bytes; no spaces in the JSON; `__metadata__` first, and only when metadata is
/// given; strings escaped as serde_json escapes them (`\"`, `\\`, `\n`, `\t`, `\r`, `\b`, `\f`, other
/// control characters as `\u00xx`, everything else as UTF-8); the header padded with spaces to 8 bytes.
/// One difference: Python writes the metadata's keys in a hash-map order that changes from one process
/// to the next, this writer in sorted order, so a file with two or more metadata keys equals Python's
/// only up to that order.
///
/// The reader accepts any valid file of these element types (padded or not) and refuses everything
/// else with a ``SafeTensorsError`` that names the file and the byte where the problem is.
public struct SafeTensorsFile: Equatable, Sendable {
    /// The tensors by name.
    public var tensors: [String: SafeTensor]
    /// The `__metadata__` object (text to text); nil: the file has none.
    public var metadata: [String: String]?

    public init(tensors: [String: SafeTensor] = [:], metadata: [String: String]? = nil) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The largest header the reader accepts, as the Rust library (100 MB).
    public static let maximumHeaderLength = 100_000_000

    // MARK: Writing

    /// The file's bytes (see the type's summary for the order).
    public func serialized() -> [UInt8] {
        precondition(tensors["__metadata__"] == nil, "safetensors: no tensor may be named __metadata__")
        let names = tensors.keys.sorted { a, b in
            let (x, y) = (tensors[a]!.dtype.layoutRank, tensors[b]!.dtype.layoutRank)
            return x != y ? x > y : Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
        }
        var header: [UInt8] = Array("{".utf8)
        var fields: [[UInt8]] = []
        if let metadata {
            let pairs = metadata.keys.sorted().map { JSONText.string($0) + [UInt8(ascii: ":")] + JSONText.string(metadata[$0]!) }
            fields.append(JSONText.string("__metadata__") + Array(":{".utf8) + pairs.joined(separator: [UInt8(ascii: ",")])
                          + [UInt8(ascii: "}")])
        }
        var offset = 0
        for name in names {
            let t = tensors[name]!
            let shape = t.shape.map(String.init).joined(separator: ",")
            let entry = "{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(offset),\(offset + t.bytes.count)]}"
            fields.append(JSONText.string(name) + [UInt8(ascii: ":")] + Array(entry.utf8))
            offset += t.bytes.count
        }
        header += fields.joined(separator: [UInt8(ascii: ",")])
        header.append(UInt8(ascii: "}"))
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }

        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes += header
        for name in names { bytes += tensors[name]!.bytes }
        return bytes
    }

    /// Writes ``serialized()`` to `path` (atomically: a reader never sees half a file).
    public func write(to path: String) throws {
        try Data(serialized()).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    // MARK: Reading

    /// Reads the file at `path`.
    public init(contentsOf path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw SafeTensorsError(file: path, offset: 0, "cannot read the file: \(error.localizedDescription)")
        }
        try self.init(parsing: [UInt8](data), file: path)
    }

    /// Parses a file's bytes; `file` names it in errors.
    public init(parsing bytes: [UInt8], file: String) throws {
        func fail(_ offset: Int, _ message: String) -> SafeTensorsError { SafeTensorsError(file: file, offset: offset, message) }
        guard bytes.count >= 8 else {
            throw fail(0, "the file has \(bytes.count) bytes, fewer than the 8 of the header length")
        }
        let declared = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard declared <= UInt64(Self.maximumHeaderLength) else {
            throw fail(0, "header length \(declared) is over the limit of \(Self.maximumHeaderLength) bytes")
        }
        let headerEnd = 8 + Int(declared)
        guard headerEnd <= bytes.count else {
            throw fail(0, "header length \(declared) runs past the end of the file (\(bytes.count) bytes)")
        }
        var parser = JSONParser(bytes: bytes, position: 8, end: headerEnd, file: file)
        let root = try parser.parseHeader()
        guard case .object(let members) = root.value else {
            throw fail(root.offset, "the header is not a JSON object")
        }
        let dataStart = headerEnd, dataCount = bytes.count - headerEnd
        var tensors: [String: SafeTensor] = [:]
        var metadata: [String: String]? = nil
        var spans: [(name: String, begin: Int, end: Int, offset: Int)] = []
        for member in members {
            if member.key == "__metadata__" {
                guard case .object(let pairs) = member.value.value else {
                    throw fail(member.value.offset, "__metadata__ is not an object of strings")
                }
                var values: [String: String] = [:]
                for pair in pairs {
                    guard case .string(let text) = pair.value.value else {
                        throw fail(pair.value.offset, "__metadata__ value of \"\(pair.key)\" is not a string")
                    }
                    values[pair.key] = text
                }
                metadata = values
                continue
            }
            let name = member.key
            guard case .object(let fields) = member.value.value else {
                throw fail(member.value.offset, "tensor \"\(name)\" is not an object")
            }
            var dtype: SafeTensor.DType?, shape: [Int]?, range: (Int, Int)?
            for field in fields {
                let at = field.value.offset
                switch field.key {
                case "dtype":
                    guard case .string(let text) = field.value.value else {
                        throw fail(at, "tensor \"\(name)\": dtype is not a string")
                    }
                    guard let d = SafeTensor.DType(rawValue: text) else {
                        throw fail(at, "tensor \"\(name)\": dtype \(text) is not supported (supported: "
                                   + SafeTensor.DType.allCases.map(\.rawValue).joined(separator: ", ") + ")")
                    }
                    dtype = d
                case "shape":
                    guard let dims = field.value.integers, dims.allSatisfy({ $0 >= 0 }) else {
                        throw fail(at, "tensor \"\(name)\": shape is not an array of integers >= 0")
                    }
                    shape = dims
                case "data_offsets":
                    guard let pair = field.value.integers, pair.count == 2, pair[0] >= 0, pair[0] <= pair[1] else {
                        throw fail(at, "tensor \"\(name)\": data_offsets is not [BEGIN, END] with 0 <= BEGIN <= END")
                    }
                    range = (pair[0], pair[1])
                default:
                    throw fail(field.keyOffset, "tensor \"\(name)\": unknown field \"\(field.key)\" "
                               + "(a tensor has dtype, shape and data_offsets)")
                }
            }
            guard let dtype, let shape, let range else {
                let absent = [("dtype", dtype == nil), ("shape", shape == nil), ("data_offsets", range == nil)]
                    .filter(\.1).map(\.0).joined(separator: ", ")
                throw fail(member.keyOffset, "tensor \"\(name)\" has no \(absent)")
            }
            let (begin, end) = range
            let (count, overflow) = shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                return (p, acc.1 || o)
            }
            let (needed, overflow2) = count.multipliedReportingOverflow(by: dtype.byteCount)
            guard !overflow && !overflow2 && needed == end - begin else {
                throw fail(member.keyOffset, "tensor \"\(name)\": shape \(shape) of \(dtype.rawValue) needs "
                           + "\(overflow || overflow2 ? "more than Int.max" : String(needed)) bytes, "
                           + "data_offsets [\(begin), \(end)] hold \(end - begin)")
            }
            guard end <= dataCount else {
                throw fail(member.keyOffset, "tensor \"\(name)\": data_offsets [\(begin), \(end)] run past the end "
                           + "of the data (\(dataCount) bytes, file bytes \(dataStart)..<\(bytes.count))")
            }
            tensors[name] = SafeTensor(dtype: dtype, shape: shape, bytes: Array(bytes[(dataStart + begin)..<(dataStart + end)]))
            spans.append((name, begin, end, member.keyOffset))
        }
        // The tensors must tile the data: each begins where the previous one ends, the last ends at the file's end.
        var covered = 0
        for span in spans.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            guard span.begin == covered else {
                throw fail(span.offset, span.begin > covered
                           ? "data bytes \(covered)..<\(span.begin) (file bytes \(dataStart + covered)..<\(dataStart + span.begin)) "
                             + "belong to no tensor: tensor \"\(span.name)\" begins at \(span.begin)"
                           : "tensor \"\(span.name)\" (data_offsets [\(span.begin), \(span.end)]) overlaps the tensor before it, "
                             + "which ends at \(covered)")
            }
            covered = span.end
        }
        guard covered == dataCount else {
            throw fail(dataStart + covered, "data bytes \(covered)..<\(dataCount) (file bytes \(dataStart + covered)..<"
                       + "\(bytes.count)) belong to no tensor")
        }
        self.init(tensors: tensors, metadata: metadata)
    }
}

/// One tensor of a ``SafeTensorsFile``: element type, shape (`[]` for a scalar, as PyTorch's
/// `num_batches_tracked`) and the values' bytes, row-major and little-endian.
public struct SafeTensor: Equatable, Sendable {
    /// The element types bnlab reads and writes, by their safetensors names.
    public enum DType: String, CaseIterable, Sendable {
        case f32 = "F32", i64 = "I64", i32 = "I32", u8 = "U8"

        public var byteCount: Int {
            switch self {
            case .i64: return 8
            case .f32, .i32: return 4
            case .u8: return 1
            }
        }

        /// The position in safetensors' `Dtype` enum (U8 < I32 < F32 < I64 among these): files lay tensors
        /// out from the highest to the lowest.
        var layoutRank: Int {
            switch self {
            case .u8: return 0
            case .i32: return 1
            case .f32: return 2
            case .i64: return 3
            }
        }
    }

    public let dtype: DType
    public let shape: [Int]
    /// `shape.product * dtype.byteCount` bytes.
    public let bytes: [UInt8]

    /// Values in `shape`'s row-major order.
    public var elementCount: Int { shape.reduce(1, *) }

    public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "SafeTensor: negative dimension in \(shape)")
        precondition(bytes.count == shape.reduce(1, *) * dtype.byteCount,
                     "SafeTensor: \(bytes.count) bytes for shape \(shape) of \(dtype.rawValue)")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    public init(_ values: [Float], shape: [Int]) {
        self.init(dtype: .f32, shape: shape, bytes: Self.littleEndian(values.map(\.bitPattern)))
    }

    public init(_ values: [Int64], shape: [Int]) {
        self.init(dtype: .i64, shape: shape, bytes: Self.littleEndian(values))
    }

    public init(_ values: [Int32], shape: [Int]) {
        self.init(dtype: .i32, shape: shape, bytes: Self.littleEndian(values))
    }

    public init(_ values: [UInt8], shape: [Int]) {
        self.init(dtype: .u8, shape: shape, bytes: values)
    }

    /// The values of an F32 tensor; nil for another type.
    public var floats: [Float]? {
        dtype == .f32 ? Self.values(bytes, as: UInt32.self).map(Float.init(bitPattern:)) : nil
    }

    /// The values of an integer tensor (I64, I32 or U8) as Int; nil for F32.
    public var integers: [Int]? {
        switch dtype {
        case .i64: return Self.values(bytes, as: Int64.self).map { Int($0) }
        case .i32: return Self.values(bytes, as: Int32.self).map { Int($0) }
        case .u8: return bytes.map { Int($0) }
        case .f32: return nil
        }
    }

    private static func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: values.count * MemoryLayout<T>.size)
        bytes.withUnsafeMutableBytes { raw in
            for (i, v) in values.enumerated() {
                raw.storeBytes(of: v.littleEndian, toByteOffset: i * MemoryLayout<T>.size, as: T.self)
            }
        }
        return bytes
    }

    private static func values<T: FixedWidthInteger>(_ bytes: [UInt8], as: T.Type) -> [T] {
        bytes.withUnsafeBytes { raw in
            (0..<(bytes.count / MemoryLayout<T>.size)).map {
                T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self))
            }
        }
    }
}

/// What is wrong with a safetensors file, and where: the file and a byte offset in it.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public let file: String
    /// Byte offset from the start of the file.
    public let offset: Int
    public let message: String

    public init(file: String, offset: Int, _ message: String) {
        self.file = file
        self.offset = offset
        self.message = message
    }

    public var description: String { "\(file): byte \(offset): error: \(message)" }
}

/// JSON strings as serde_json writes them (what the Python library's header holds).
enum JSONText {
    static func string(_ text: String) -> [UInt8] {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += Array("\\\"".utf8)
            case UInt8(ascii: "\\"): out += Array("\\\\".utf8)
            case 0x08: out += Array("\\b".utf8)
            case 0x0C: out += Array("\\f".utf8)
            case UInt8(ascii: "\n"): out += Array("\\n".utf8)
            case UInt8(ascii: "\r"): out += Array("\\r".utf8)
            case UInt8(ascii: "\t"): out += Array("\\t".utf8)
            case 0..<0x20: out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }
}

/// A JSON parser for safetensors headers that keeps the file offset of every key and value, so errors
/// say where. Foundation's JSONSerialization would lose the offsets and silently keep one of two
/// duplicate keys; this reads the JSON a header can hold (objects, arrays, strings, integers) and
/// names anything else (fractions, `true`, `null`) as an error.
struct JSONParser {
    /// A value and the file offset of its first byte.
    struct Located {
        enum Value {
            case object([Member])
            case array([Located])
            case string(String)
            case integer(Int)
        }
        let value: Value
        let offset: Int

        /// The elements of an array of integers, else nil.
        var integers: [Int]? {
            guard case .array(let items) = value else { return nil }
            var result: [Int] = []
            for item in items {
                guard case .integer(let n) = item.value else { return nil }
                result.append(n)
            }
            return result
        }
    }

    struct Member {
        let key: String
        let keyOffset: Int
        let value: Located
    }

    let bytes: [UInt8]
    var position: Int
    let end: Int
    let file: String

    private func fail(_ offset: Int, _ message: String) -> SafeTensorsError {
        SafeTensorsError(file: file, offset: offset, message)
    }

    private var found: String {
        guard position < end else { return "the end of the header" }
        let b = bytes[position]
        return b >= 0x20 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : String(format: "byte 0x%02x", b)
    }

    /// The header's single value, followed by nothing but whitespace (the padding).
    mutating func parseHeader() throws -> Located {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard position == end else { throw fail(position, "unexpected \(found) after the header's JSON object") }
        return value
    }

    private mutating func skipWhitespace() {
        while position < end, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    private mutating func parseValue(depth: Int) throws -> Located {
        guard depth < 64 else { throw fail(position, "the header nests deeper than 64 levels") }
        let start = position
        guard position < end else { throw fail(position, "the header ends where a value was expected") }
        switch bytes[position] {
        case UInt8(ascii: "{"):
            var members: [Member] = []
            var keys: Set<String> = []
            try parseElements(close: "}") { p in
                let keyOffset = p.position
                guard p.position < p.end && p.bytes[p.position] == UInt8(ascii: "\"") else {
                    throw p.fail(p.position, "expected a quoted key, found \(p.found)")
                }
                let key = try p.parseString()
                guard keys.insert(key).inserted else { throw p.fail(keyOffset, "duplicate key \"\(key)\"") }
                p.skipWhitespace()
                try p.expect(":")
                p.skipWhitespace()
                members.append(Member(key: key, keyOffset: keyOffset, value: try p.parseValue(depth: depth + 1)))
            }
            return Located(value: .object(members), offset: start)
        case UInt8(ascii: "["):
            var items: [Located] = []
            try parseElements(close: "]") { p in items.append(try p.parseValue(depth: depth + 1)) }
            return Located(value: .array(items), offset: start)
        case UInt8(ascii: "\""):
            return Located(value: .string(try parseString()), offset: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return Located(value: .integer(try parseInteger()), offset: start)
        default:
            throw fail(position, "expected an object, an array, a string or an integer, found \(found)")
        }
    }

    /// The members of an object or the elements of an array, the opening bracket at `position`: each
    /// read by `element` (whitespace skipped around it), separated by commas, up to `close` (consumed).
    private mutating func parseElements(close: Unicode.Scalar, _ element: (inout Self) throws -> Void) throws {
        position += 1
        skipWhitespace()
        if position < end && bytes[position] == UInt8(ascii: close) { position += 1; return }
        while true {
            skipWhitespace()
            try element(&self)
            skipWhitespace()
            if try separatorOrEnd(close) { return }
        }
    }

    /// After a member or element: true at `close` (consumed), false at a comma (consumed).
    private mutating func separatorOrEnd(_ close: Unicode.Scalar) throws -> Bool {
        guard position < end else { throw fail(position, "the header ends inside an \(close == "}" ? "object" : "array")") }
        if bytes[position] == UInt8(ascii: close) { position += 1; return true }
        if bytes[position] == UInt8(ascii: ",") { position += 1; return false }
        throw fail(position, "expected ',' or '\(close)', found \(found)")
    }

    private mutating func expect(_ c: Unicode.Scalar) throws {
        guard position < end && bytes[position] == UInt8(ascii: c) else { throw fail(position, "expected '\(c)', found \(found)") }
        position += 1
    }

    private mutating func parseInteger() throws -> Int {
        let start = position
        var negative = false
        if bytes[position] == UInt8(ascii: "-") { negative = true; position += 1 }
        var value = 0
        var digits = 0
        while position < end, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int(bytes[position] - UInt8(ascii: "0")))
            guard !o1 && !o2 else { throw fail(start, "integer too large") }
            value = sum
            position += 1
            digits += 1
        }
        guard digits > 0 else { throw fail(position, "expected a digit, found \(found)") }
        if position < end, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[position]) {
            throw fail(start, "expected an integer, found a number with a fraction or an exponent")
        }
        return negative ? -value : value
    }

    private mutating func parseString() throws -> String {
        let start = position
        position += 1  // the opening quote
        var utf8: [UInt8] = []
        func hex4() throws -> UInt32 {
            guard position + 4 <= end, let v = UInt32(String(decoding: bytes[position..<(position + 4)], as: UTF8.self), radix: 16)
            else { throw fail(position, "expected 4 hex digits after \\u") }
            position += 4
            return v
        }
        while true {
            guard position < end else { throw fail(start, "unterminated string") }
            let b = bytes[position]
            position += 1
            switch b {
            case UInt8(ascii: "\""):
                guard let text = String(validating: utf8, as: UTF8.self) else { throw fail(start, "string is not valid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                guard position < end else { throw fail(start, "unterminated string") }
                let e = bytes[position]
                position += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(e)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    let at = position - 2
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {  // a surrogate pair
                        guard position + 2 <= end, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                        else { throw fail(at, "unpaired surrogate in \\u escape") }
                        position += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail(at, "unpaired surrogate in \\u escape") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw fail(at, "\\u escape is not a Unicode scalar") }
                    utf8 += Array(String(Character(scalar)).utf8)
                default:
                    throw fail(position - 2, "unknown escape \\\(Character(Unicode.Scalar(e)))")
                }
            case 0..<0x20:
                throw fail(position - 1, "control character 0x\(String(b, radix: 16)) in a string (it must be escaped)")
            default:
                utf8.append(b)
            }
        }
    }
}
