/// Locale-independent parsing of one decimal number from ASCII bytes, for the CSV loader.
///
/// Grammar (spaces and tabs allowed around it): `[+-] digits [. digits] [(e|E) [+-] digits]`,
/// with at least one digit in the mantissa; `.5` and `5.` are accepted, `nan`, `inf`, hex
/// and thousands separators are not. The first 19 significant digits are kept as an integer
/// `m` and the value is `m * 10^e` (or `m / 10^-e`), which is correctly rounded whenever `m`
/// has at most 15 digits and `|e| <= 22` (every pixel value in practice).
enum DecimalParser {
    /// The number filling `bytes[start..<end]` exactly (after trimming), or nil (also for
    /// values that overflow to infinity).
    static func parse(_ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Double? {
        var i = start, end = end
        let zero = ASCII.zero  // a local constant: no global accessor per digit in debug builds
        while i < end && isSpace(bytes[i]) { i += 1 }
        while end > i && isSpace(bytes[end - 1]) { end -= 1 }
        guard i < end else { return nil }
        var negative = false
        if bytes[i] == ASCII.minus || bytes[i] == ASCII.plus {
            negative = bytes[i] == ASCII.minus
            i += 1
        }
        // Up to 19 significant digits go into `mantissa`; further integer digits only scale it.
        var mantissa: UInt64 = 0, exponent = 0, digitCount = 0
        while i < end, case let digit = bytes[i] &- zero, digit < 10 {
            if mantissa < 1_000_000_000_000_000_000 {
                mantissa = mantissa &* 10 &+ UInt64(digit)
            } else {
                exponent += 1
            }
            digitCount += 1
            i += 1
        }
        if i < end && bytes[i] == ASCII.point {
            i += 1
            while i < end, case let digit = bytes[i] &- zero, digit < 10 {
                if mantissa < 1_000_000_000_000_000_000 {
                    mantissa = mantissa &* 10 &+ UInt64(digit)
                    exponent -= 1
                }
                digitCount += 1
                i += 1
            }
        }
        guard digitCount > 0 else { return nil }
        if i < end && (bytes[i] | 0x20) == ASCII.lowercaseE {
            i += 1
            var exponentNegative = false
            if i < end && (bytes[i] == ASCII.minus || bytes[i] == ASCII.plus) {
                exponentNegative = bytes[i] == ASCII.minus
                i += 1
            }
            var written = 0, exponentDigits = 0
            while i < end, case let digit = bytes[i] &- zero, digit < 10 {
                written = min(written * 10 + Int(digit), 100_000)
                exponentDigits += 1
                i += 1
            }
            guard exponentDigits > 0 else { return nil }
            exponent += exponentNegative ? -written : written
        }
        guard i == end else { return nil }
        let magnitude = scaled(Double(mantissa), exponent)
        guard magnitude.isFinite else { return nil }
        return negative ? -magnitude : magnitude
    }

    @inline(__always)
    private static func isSpace(_ byte: UInt8) -> Bool { byte == ASCII.space || byte == ASCII.tab }

    /// `value * 10^exponent`, exact powers of ten up to 10^22.
    private static func scaled(_ value: Double, _ exponent: Int) -> Double {
        if exponent == 0 || value == 0 { return value }
        if exponent > 0 && exponent <= 22 { return value * powersOfTen[exponent] }
        if exponent < 0 && exponent >= -22 { return value / powersOfTen[-exponent] }
        var result = value
        var remaining = exponent
        while remaining > 22 { result *= 1e22; remaining -= 22 }
        while remaining < -22 { result /= 1e22; remaining += 22 }
        return scaled(result, remaining)
    }

    private static let powersOfTen: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { r, _ in r * 10 } }
}

/// ASCII codes used by the text parsers, as plain constants (`UInt8(ascii:)` is a function
/// call per byte in debug builds).
enum ASCII {
    static let tab: UInt8 = 0x09, newline: UInt8 = 0x0A, carriageReturn: UInt8 = 0x0D, space: UInt8 = 0x20
    static let plus: UInt8 = 0x2B, comma: UInt8 = 0x2C, minus: UInt8 = 0x2D, point: UInt8 = 0x2E
    static let zero: UInt8 = 0x30, lowercaseE: UInt8 = 0x65, semicolon: UInt8 = 0x3B
}
