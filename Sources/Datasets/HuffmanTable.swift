/// A canonical Huffman code of DEFLATE (RFC 1951 section 3.2.2), built from the
/// code length of every symbol and decoded by table lookup.
///
/// Codes of at most ``fastBits`` bits decode with one lookup in `fast`, indexed by
/// the next `fastBits` input bits (DEFLATE sends Huffman codes most significant
/// bit first, so the table is indexed by bit-reversed codes). Longer codes take
/// the canonical path: the next 16 bits, reversed, are compared against the
/// left-aligned end of the codes of each length (`limit`), as in stb_image's zlib.
struct HuffmanTable: Sendable {
    /// Width of the direct lookup table, in bits.
    static let fastBits = 10
    static let fastMask: UInt64 = (1 << UInt64(fastBits)) - 1

    /// `(length << 9) | symbol` for every `fastBits`-bit input; 0 when the code is longer.
    private(set) var fast: [UInt16]
    /// For each length `L`: the first canonical code of length `L`.
    private var firstCode = [Int](repeating: 0, count: 17)
    /// For each length `L`: the index in `symbols` of the first symbol of length `L`.
    private var firstIndex = [Int](repeating: 0, count: 17)
    /// For each length `L`: one past the last code of length `L`, shifted to 16 bits.
    private var limit = [Int](repeating: 0, count: 17)
    /// Symbols sorted by code, with their lengths.
    private var symbols: [UInt16], lengths: [UInt8]

    /// The code whose symbol `s` has length `codeLengths[s]` (0 = unused, at most 15).
    /// Nil when the lengths are over-subscribed (more codes of some length than fit).
    init?(codeLengths: ArraySlice<UInt8>) {
        var counts = [Int](repeating: 0, count: 17)
        for length in codeLengths {
            guard length <= 15 else { return nil }
            counts[Int(length)] += 1
        }
        counts[0] = 0
        var nextCode = [Int](repeating: 0, count: 17)
        var code = 0, index = 0
        for length in 1...15 {
            nextCode[length] = code
            firstCode[length] = code
            firstIndex[length] = index
            code += counts[length]
            if counts[length] > 0 && code - 1 >= 1 << length { return nil }
            limit[length] = code << (16 - length)
            code <<= 1
            index += counts[length]
        }
        limit[16] = 0x10000
        fast = [UInt16](repeating: 0, count: 1 << Self.fastBits)
        symbols = [UInt16](repeating: 0, count: index)
        lengths = [UInt8](repeating: 0, count: index)
        for (offset, length) in codeLengths.enumerated() where length > 0 {
            let length = Int(length)
            let position = nextCode[length] - firstCode[length] + firstIndex[length]
            symbols[position] = UInt16(offset)
            lengths[position] = UInt8(length)
            if length <= Self.fastBits {
                var slot = Self.reverse(nextCode[length], bits: length)
                while slot < fast.count {
                    fast[slot] = UInt16(length << 9 | offset)
                    slot += 1 << length
                }
            }
            nextCode[length] += 1
        }
    }

    /// The symbol of a code longer than `fastBits` at the start of `bits` (least significant
    /// bit first) and its length; nil when no code of this table starts that way.
    func decodeLong(_ bits: UInt64) -> (symbol: Int, length: Int)? {
        let key = Self.reverse(Int(truncatingIfNeeded: bits & 0xFFFF), bits: 16)
        var length = Self.fastBits + 1
        while key >= limit[length] {
            length += 1
            if length > 15 { return nil }
        }
        let position = (key >> (16 - length)) - firstCode[length] + firstIndex[length]
        guard position < symbols.count, Int(lengths[position]) == length else { return nil }
        return (Int(symbols[position]), length)
    }

    /// The low `bits` bits of `value` in reverse order.
    static func reverse(_ value: Int, bits: Int) -> Int {
        var result = 0, value = value
        for _ in 0..<bits {
            result = (result << 1) | (value & 1)
            value >>= 1
        }
        return result
    }

    /// The fixed literal/length code of block type 1 (RFC 1951 section 3.2.6).
    static let fixedLiteral = HuffmanTable(codeLengths: ArraySlice(
        [UInt8](repeating: 8, count: 144) + [UInt8](repeating: 9, count: 112)
            + [UInt8](repeating: 7, count: 24) + [UInt8](repeating: 8, count: 8)))!
    /// The fixed distance code of block type 1: 32 codes of 5 bits (30 and 31 never valid).
    static let fixedDistance = HuffmanTable(codeLengths: ArraySlice([UInt8](repeating: 5, count: 32)))!
}
