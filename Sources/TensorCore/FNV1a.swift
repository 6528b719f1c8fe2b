/// FNV-1a, 64-bit (Fowler, Noll, Vo): a fixed, process-independent hash, unlike `hashValue`.
///
/// The project's one string hash: it names random streams (``RandomGenerator/derived(_:)-(String)``),
/// the resolved hash of a spec and the checksum of each journal line, so its values are pinned
/// by tests and must never change.
///
///     h = 0xcbf29ce484222325;  for each byte b: h = (h ^ b) * 0x100000001b3  (mod 2^64)
public enum FNV1a {
    /// The hash of `text`'s UTF-8 bytes.
    public static func hash64(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// 16 lower-case hex digits, leading zeros kept.
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
