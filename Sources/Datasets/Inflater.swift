/// The DEFLATE block decoder (RFC 1951) behind ``Inflate``: reads bits from an
/// input buffer and appends the decoded bytes to an output buffer it owns.
///
/// Bits are consumed least significant first from a 64-bit buffer refilled
/// eight bytes at a time (`refill`); near the end of the input it pads with
/// zero bytes and a block that ends inside the padding is reported as truncated.
/// The output is a manually grown buffer, released by `release()`.
struct Inflater {
    private let input: UnsafeBufferPointer<UInt8>
    /// Name of the data in error messages (the file path).
    let source: String
    /// Next input byte to load into `bitBuffer`.
    var position: Int
    private var bitBuffer: UInt64 = 0
    /// Number of valid bits in `bitBuffer` (the bits above them, if any, repeat later input).
    private var bitCount = 0
    private(set) var output: UnsafeMutablePointer<UInt8>
    private(set) var outputCount = 0
    private var outputCapacity: Int

    /// A decoder that starts reading at byte `position` of `input`.
    init(input: UnsafeBufferPointer<UInt8>, position: Int, source: String, capacityHint: Int) {
        self.input = input
        self.position = position
        self.source = source
        outputCapacity = max(capacityHint, 4096)
        output = .allocate(capacity: outputCapacity)
    }

    /// Frees the output buffer; call once, after copying the result out.
    func release() { output.deallocate() }

    /// The bytes decoded so far.
    var result: [UInt8] { Array(UnsafeBufferPointer(start: output, count: outputCount)) }

    /// An error at the current input byte.
    func fail(_ message: String) -> DatasetError {
        DatasetError(path: source, message: "\(message) (near compressed byte \(min(consumedBits / 8, input.count)))")
    }

    private var consumedBits: Int { position * 8 - bitCount }

    // MARK: Stream and blocks

    /// Decodes one DEFLATE stream starting at byte `position`; afterwards `position`
    /// is the first byte after the stream (the final block's last byte, rounded up).
    mutating func inflateStream() throws {
        var isFinal = false
        while !isFinal {
            isFinal = try bits(1) == 1
            switch try bits(2) {
            case 0: try storedBlock()
            case 1: try huffmanBlock(literals: .fixedLiteral, distances: .fixedDistance)
            case 2:
                let (literals, distances) = try dynamicTables()
                try huffmanBlock(literals: literals, distances: distances)
            default: throw fail("invalid DEFLATE block type 3")
            }
            if consumedBits > input.count * 8 { throw fail("truncated DEFLATE stream") }
        }
        alignToByte()
    }

    /// Block type 0: byte-aligned LEN, NLEN (one's complement) and LEN raw bytes.
    private mutating func storedBlock() throws {
        alignToByte()
        guard input.count - position >= 4 else { throw fail("truncated stored block header") }
        let length = Int(input[position]) | Int(input[position + 1]) << 8
        let complement = Int(input[position + 2]) | Int(input[position + 3]) << 8
        guard length == ~complement & 0xFFFF else {
            throw fail("stored block length \(length) does not match its complement \(complement)")
        }
        position += 4
        guard input.count - position >= length else {
            throw fail("truncated stored block: \(length) bytes announced, \(input.count - position) left")
        }
        reserve(length)
        (output + outputCount).update(from: input.baseAddress! + position, count: length)
        outputCount += length
        position += length
    }

    /// Block type 2 header: HLIT, HDIST, HCLEN, the code length code, then the run-length
    /// coded lengths of the literal/length and distance codes (RFC 1951 section 3.2.7).
    private mutating func dynamicTables() throws -> (HuffmanTable, HuffmanTable) {
        let literalCount = try bits(5) + 257, distanceCount = try bits(5) + 1
        let lengthCodeCount = try bits(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else {
            throw fail("dynamic block declares \(literalCount) literal and \(distanceCount) distance codes "
                + "(at most 286 and 30)")
        }
        var lengthCodeLengths = [UInt8](repeating: 0, count: 19)
        for symbol in Self.lengthCodeOrder.prefix(lengthCodeCount) {
            lengthCodeLengths[symbol] = UInt8(try bits(3))
        }
        guard let lengthCode = HuffmanTable(codeLengths: lengthCodeLengths[...]) else {
            throw fail("invalid code length code")
        }
        let total = literalCount + distanceCount
        var lengths = [UInt8](repeating: 0, count: total)
        var filled = 0
        try lengthCode.fast.withUnsafeBufferPointer { fast in
            while filled < total {
                let symbol = try decode(lengthCode, fast.baseAddress!)
                if symbol < 16 {
                    lengths[filled] = UInt8(symbol)
                    filled += 1
                    continue
                }
                let (value, repeats): (UInt8, Int)
                switch symbol {
                case 16:
                    guard filled > 0 else { throw fail("code length repeat with no previous length") }
                    (value, repeats) = (lengths[filled - 1], try 3 + bits(2))
                case 17: (value, repeats) = (0, try 3 + bits(3))
                default: (value, repeats) = (0, try 11 + bits(7))
                }
                guard filled + repeats <= total else { throw fail("code lengths overflow the \(total) codes") }
                for i in filled..<(filled + repeats) { lengths[i] = value }
                filled += repeats
            }
        }
        guard lengths[256] != 0 else { throw fail("dynamic block has no end-of-block code") }
        guard let literals = HuffmanTable(codeLengths: lengths[..<literalCount]),
              let distances = HuffmanTable(codeLengths: lengths[literalCount...]) else {
            throw fail("invalid literal/length or distance code lengths")
        }
        return (literals, distances)
    }

    /// Block types 1 and 2: literals (0-255), end of block (256), and length/distance pairs.
    private mutating func huffmanBlock(literals: HuffmanTable, distances: HuffmanTable) throws {
        let lengthBase = Self.lengthBase, lengthExtra = Self.lengthExtra
        let distanceBase = Self.distanceBase, distanceExtra = Self.distanceExtra
        try literals.fast.withUnsafeBufferPointer { literalFast in
            try distances.fast.withUnsafeBufferPointer { distanceFast in
                while true {
                    let symbol = try decode(literals, literalFast.baseAddress!)
                    if symbol < 256 {
                        reserve(1)
                        output[outputCount] = UInt8(truncatingIfNeeded: symbol)
                        outputCount += 1
                        continue
                    }
                    if symbol == 256 { return }
                    let lengthIndex = symbol - 257
                    guard lengthIndex < 29 else { throw fail("invalid length symbol \(symbol)") }
                    let length = try lengthBase[lengthIndex] + bits(lengthExtra[lengthIndex])
                    let distanceSymbol = try decode(distances, distanceFast.baseAddress!)
                    guard distanceSymbol < 30 else { throw fail("invalid distance symbol \(distanceSymbol)") }
                    let distance = try distanceBase[distanceSymbol] + bits(distanceExtra[distanceSymbol])
                    guard distance <= outputCount else {
                        throw fail("distance \(distance) reaches before the start of the output (\(outputCount) bytes)")
                    }
                    copyMatch(length: length, distance: distance)
                }
            }
        }
    }

    // MARK: Output

    /// Makes room for `count` more output bytes.
    @inline(__always)
    private mutating func reserve(_ count: Int) {
        if outputCount + count > outputCapacity { grow(to: outputCount + count) }
    }

    private mutating func grow(to needed: Int) {
        let capacity = max(needed, outputCapacity * 2)
        let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        larger.moveInitialize(from: output, count: outputCount)
        output.deallocate()
        output = larger
        outputCapacity = capacity
    }

    /// Appends `length` bytes copied from `distance` bytes back (the regions may overlap).
    @inline(__always)
    private mutating func copyMatch(length: Int, distance: Int) {
        reserve(length)
        let target = output + outputCount
        let from = target - distance
        if distance >= length {
            target.update(from: from, count: length)
        } else {
            for i in 0..<length { target[i] = from[i] }
        }
        outputCount += length
    }

    // MARK: Bits

    /// Decodes one Huffman symbol.
    @inline(__always)
    private mutating func decode(_ table: HuffmanTable, _ fast: UnsafePointer<UInt16>) throws -> Int {
        if bitCount < 16 { try refill() }
        let entry = fast[Int(truncatingIfNeeded: bitBuffer & HuffmanTable.fastMask)]
        if entry != 0 {
            consume(Int(entry >> 9))
            return Int(entry & 0x1FF)
        }
        guard let (symbol, length) = table.decodeLong(bitBuffer) else { throw fail("invalid Huffman code") }
        consume(length)
        return symbol
    }

    /// The next `count` bits (at most 32), first bit least significant.
    @inline(__always)
    private mutating func bits(_ count: Int) throws -> Int {
        if bitCount < count { try refill() }
        let value = Int(truncatingIfNeeded: bitBuffer & ((1 &<< UInt64(count)) &- 1))
        consume(count)
        return value
    }

    @inline(__always)
    private mutating func consume(_ count: Int) {
        bitBuffer &>>= UInt64(count)
        bitCount -= count
    }

    /// Tops `bitBuffer` up to at least 56 valid bits.
    @inline(__always)
    private mutating func refill() throws {
        if input.count - position >= 8 {
            let word = UInt64(littleEndian: UnsafeRawPointer(input.baseAddress! + position)
                .loadUnaligned(as: UInt64.self))
            bitBuffer |= word &<< UInt64(bitCount)
            position += (63 - bitCount) >> 3
            bitCount |= 56
        } else {
            try refillNearEnd()
        }
    }

    /// Byte-wise refill that pads with zeros; more than 8 padding bytes means that
    /// whole bytes past the end were consumed.
    private mutating func refillNearEnd() throws {
        while bitCount <= 56 {
            guard position < input.count + 8 else { throw fail("truncated DEFLATE stream") }
            let byte: UInt64 = position < input.count ? UInt64(input[position]) : 0
            bitBuffer |= byte &<< UInt64(bitCount)
            position += 1
            bitCount += 8
        }
    }

    /// Drops the bits up to the next byte boundary and empties the bit buffer,
    /// leaving `position` at the first unread byte.
    private mutating func alignToByte() {
        position = (consumedBits + 7) / 8
        bitBuffer = 0
        bitCount = 0
    }

    // MARK: Tables of RFC 1951 section 3.2.5

    private static let lengthCodeOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                     35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                                      3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
                                       257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
                                       8193, 12289, 16385, 24577]
    private static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
                                        7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
}
