/// The offset of the first byte in `bytes` that starts an invalid UTF-8
/// sequence (a stray continuation byte, a truncated or overlong sequence, a
/// surrogate, or a code point above U+10FFFF), or nil when all of it is valid.
///
/// The table of well-formed sequences is the Unicode Standard's, section 3.9,
/// table 3-7.
func firstInvalidUTF8Offset(_ bytes: ArraySlice<UInt8>) -> Int? {
    let start = bytes.startIndex
    var i = start
    let end = bytes.endIndex
    /// Whether `bytes[at]` exists and lies in `range`.
    func byte(_ at: Int, in range: ClosedRange<UInt8>) -> Bool {
        at < end && range.contains(bytes[at])
    }
    let continuation: ClosedRange<UInt8> = 0x80...0xBF
    while i < end {
        let lead = bytes[i]
        let length: Int
        let second: ClosedRange<UInt8>
        switch lead {
        case 0x00...0x7F: i += 1; continue
        case 0xC2...0xDF: length = 2; second = continuation
        case 0xE0: length = 3; second = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3; second = continuation
        case 0xED: length = 3; second = 0x80...0x9F
        case 0xF0: length = 4; second = 0x90...0xBF
        case 0xF1...0xF3: length = 4; second = continuation
        case 0xF4: length = 4; second = 0x80...0x8F
        default: return i - start
        }
        guard byte(i + 1, in: second) else { return i - start }
        for k in 2..<length where !byte(i + k, in: continuation) {
            return i - start
        }
        i += length
    }
    return nil
}
