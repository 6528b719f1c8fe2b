/// FNV-1a, 64-bit (Fowler, Noll, Vo): a fixed, process-independent hash,
/// unlike `hashValue`.
enum FNV1a {
    /// The hash of `text`'s UTF-8 bytes.
    static func hash64(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// 16 lower-case hex digits.
    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
