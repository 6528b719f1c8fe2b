/// One word of a spec line and where its first byte is.
struct SpecToken: Sendable {
    let text: String
    let location: SourceLocation

    /// The part of this token after its first `=` (the value of `name=value`),
    /// located where that part starts; nil when there is no `=`.
    func splitKeyword() -> (name: String, value: SpecToken)? {
        let utf8 = Array(text.utf8)
        guard let equals = utf8.firstIndex(of: UInt8(ascii: "=")) else { return nil }
        let name = String(decoding: utf8[..<equals], as: UTF8.self)
        let value = String(decoding: utf8[(equals + 1)...], as: UTF8.self)
        let column = location.column + equals + 1
        return (name, SpecToken(text: value, location: SourceLocation(line: location.line, column: column)))
    }
}

/// Splits spec bytes into lines and lines into tokens.
///
/// Grammar: lines end at `\n` (a `\r` right before it is dropped); `#` starts a
/// comment to the end of the line; tokens are separated by spaces and tabs.
/// Refused with a located error: a line longer than ``maxLineBytes`` bytes,
/// bytes that are not UTF-8, and control characters other than tab.
enum SpecLexer {
    /// The longest line accepted, in bytes, without its line ending.
    static let maxLineBytes = 4096

    /// The lines of `bytes` without their `\n`; a file ending in `\n` has an
    /// empty last line.
    static func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    }

    /// The tokens of line number `number` (1-based). A UTF-8 byte order mark at
    /// the start of line 1 is skipped like a space (columns still count it).
    static func tokens(of rawLine: ArraySlice<UInt8>, number: Int) throws -> [SpecToken] {
        var line = rawLine
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        let base = line.startIndex
        func location(_ index: Int) -> SourceLocation {
            SourceLocation(line: number, column: index - base + 1)
        }
        if line.count > maxLineBytes {
            throw SpecProblem(location(base + maxLineBytes),
                              "line is \(line.count) bytes long; the limit is \(maxLineBytes)")
        }
        if String(validating: line, as: UTF8.self) == nil {
            let bad = firstInvalidUTF8Index(line)
            throw SpecProblem(location(bad), "invalid UTF-8 byte 0x\(hex(line[bad])) (spec files are UTF-8 text)")
        }
        var skip = 0
        if number == 1, line.starts(with: [0xEF, 0xBB, 0xBF]) { skip = 3 }

        var tokens: [SpecToken] = []
        var tokenStart: Int? = nil
        func finish(at end: Int) {
            if let start = tokenStart {
                tokens.append(SpecToken(text: String(decoding: line[start..<end], as: UTF8.self),
                                        location: location(start)))
                tokenStart = nil
            }
        }
        var i = base + skip
        scan: while i < line.endIndex {
            let byte = line[i]
            switch byte {
            case UInt8(ascii: "#"):
                break scan
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                finish(at: i)
            case 0x00..<0x20, 0x7F:
                throw SpecProblem(location(i), "control character 0x\(hex(byte)) is not allowed")
            default:
                if tokenStart == nil { tokenStart = i }
            }
            i += 1
        }
        finish(at: i)
        return tokens
    }

    /// The index of the byte that starts the first ill-formed sequence of `line` (a stray
    /// continuation byte, a truncated or overlong sequence, a surrogate, a code point above
    /// U+10FFFF), found by the standard library's UTF-8 decoder; call it only for a line that
    /// `String(validating:as:)` refused.
    private static func firstInvalidUTF8Index(_ line: ArraySlice<UInt8>) -> Int {
        var parser = Unicode.UTF8.ForwardParser()
        var bytes = line.makeIterator()
        var index = line.startIndex
        while true {
            switch parser.parseScalar(from: &bytes) {
            case .valid(let scalar): index += scalar.count
            case .error: return index
            case .emptyInput: preconditionFailure("firstInvalidUTF8Index called on valid UTF-8")
            }
        }
    }

    /// Two upper-case hex digits.
    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}
