/// CRC-32 as gzip uses it (RFC 1952 section 8: the reflected polynomial
/// `0xEDB88320`, initial value and final xor `0xFFFFFFFF`); the check value of
/// the ASCII bytes "123456789" is `0xCBF43926`.
enum CRC32 {
    /// `table[b]` is the CRC register after shifting the byte `b` through a zero register.
    static let table: [UInt32] = (0..<256).map { byte -> UInt32 in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        return crc
    }

    /// CRC-32 of `count` bytes at `bytes`, continuing from a previous result `crc` (0 to start).
    static func checksum(_ bytes: UnsafePointer<UInt8>, count: Int, continuing crc: UInt32 = 0) -> UInt32 {
        table.withUnsafeBufferPointer { table in
            var register = ~crc
            for i in 0..<count {
                register = table[Int((register ^ UInt32(bytes[i])) & 0xFF)] ^ (register >> 8)
            }
            return ~register
        }
    }

    /// CRC-32 of `bytes`.
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return 0 }
            return checksum(base, count: buffer.count)
        }
    }
}
