/// The number syntax of spec values, stricter than Swift's or C's parsers.
///
/// - decimal: `[+-]? (DIGITS ['.' DIGITS] | '.' DIGITS) [('e'|'E') [+-]? DIGITS]`,
///   e.g. `0.1`, `.5`, `5e-4`, `-2`;
/// - integer: `[+-]? DIGITS`.
///
/// Refused: hexadecimal (`0x10`), a bare exponent (`1e`), `nan`, `inf`, and any
/// value whose Float is not finite (`1e39`).
enum SpecNumber {
    /// Whether `text` is a decimal number in the spec syntax.
    static func isDecimal(_ text: String) -> Bool {
        var scanner = DigitScanner(text)
        scanner.skipSign()
        let whole = scanner.digits()
        var fraction = 0
        if scanner.take(".") {
            fraction = scanner.digits()
            if fraction == 0 { return false }
        }
        if whole == 0 && fraction == 0 { return false }
        if scanner.take("e") || scanner.take("E") {
            scanner.skipSign()
            if scanner.digits() == 0 { return false }
        }
        return scanner.atEnd
    }

    /// Whether `text` is an integer in the spec syntax.
    static func isInteger(_ text: String) -> Bool {
        var scanner = DigitScanner(text)
        scanner.skipSign()
        return scanner.digits() > 0 && scanner.atEnd
    }

    /// The canonical text of a Float: Swift's shortest round-trip `description`
    /// without a trailing `.0` (`0.1`, `0`, `3`, `0.0005`, `1e-05`).
    static func format(_ value: Float) -> String {
        let text = value.description
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }
}

/// A left-to-right reader of ASCII digits for ``SpecNumber``.
private struct DigitScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    var atEnd: Bool { index == bytes.count }

    mutating func take(_ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    mutating func skipSign() {
        if !take("+") { _ = take("-") }
    }

    /// Skips a run of digits and returns its length.
    mutating func digits() -> Int {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            index += 1
        }
        return index - start
    }
}

/// The allowed values of a numeric setting, printed in messages as
/// `in [0, 1)`, `> 0`, `>= 1`.
struct NumberRange: Sendable {
    /// A bound and whether it is included.
    struct Bound: Sendable {
        let value: Float
        let inclusive: Bool
    }

    let lower: Bound?
    let upper: Bound?

    static func atLeast(_ value: Float) -> NumberRange {
        NumberRange(lower: Bound(value: value, inclusive: true), upper: nil)
    }
    static func above(_ value: Float) -> NumberRange {
        NumberRange(lower: Bound(value: value, inclusive: false), upper: nil)
    }
    /// Every finite number.
    static let any = NumberRange(lower: nil, upper: nil)
    /// [0, 1)
    static let fractionBelowOne = NumberRange(lower: Bound(value: 0, inclusive: true),
                                              upper: Bound(value: 1, inclusive: false))
    /// [0, 1]
    static let fraction = NumberRange(lower: Bound(value: 0, inclusive: true),
                                      upper: Bound(value: 1, inclusive: true))
    /// (0, 1)
    static let openFraction = NumberRange(lower: Bound(value: 0, inclusive: false),
                                          upper: Bound(value: 1, inclusive: false))
    /// (0, 1]
    static let positiveFraction = NumberRange(lower: Bound(value: 0, inclusive: false),
                                              upper: Bound(value: 1, inclusive: true))

    func contains(_ x: Float) -> Bool {
        if let lower, lower.inclusive ? x < lower.value : x <= lower.value { return false }
        if let upper, upper.inclusive ? x > upper.value : x >= upper.value { return false }
        return true
    }

    /// `in [0, 1)`, `> 0`, `>= 1`, `<= 1`, or `finite` for ``any`` (which the
    /// messages leave out: every number is finite).
    var description: String {
        switch (lower, upper) {
        case let (lower?, upper?):
            return "in \(lower.inclusive ? "[" : "(")\(SpecNumber.format(lower.value)), "
                + "\(SpecNumber.format(upper.value))\(upper.inclusive ? "]" : ")")"
        case let (lower?, nil):
            return "\(lower.inclusive ? ">=" : ">") \(SpecNumber.format(lower.value))"
        case let (nil, upper?):
            return "\(upper.inclusive ? "<=" : "<") \(SpecNumber.format(upper.value))"
        case (nil, nil):
            return "finite"
        }
    }
}
