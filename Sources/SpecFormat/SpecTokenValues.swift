// Reading one token as a typed value, with the located error of the spec format.

extension SpecToken {
    /// A Float in `range`. `name` is what the message calls the value
    /// (`dropout must be in [0, 1), got '1.0'`). -0 reads as 0.
    func float(_ name: String, in range: NumberRange) throws -> Float {
        guard SpecNumber.isDecimal(text), let double = Double(text) else {
            let allowed = range.lower == nil && range.upper == nil ? "" : " \(range.description)"
            throw SpecProblem(location, "\(name) must be a number\(allowed), got \(quoted(text))")
        }
        let value = Float(double) + 0  // + 0 turns -0 into 0
        guard value.isFinite else {
            throw SpecProblem(location, "\(name) is too large for a 32-bit float, got \(quoted(text))")
        }
        guard range.contains(value) else {
            throw SpecProblem(location, "\(name) must be \(range.description), got \(quoted(text))")
        }
        return value
    }

    /// An integer >= `minimum`.
    func integer(_ name: String, atLeast minimum: Int) throws -> Int {
        guard SpecNumber.isInteger(text) else {
            throw SpecProblem(location, "\(name) must be an integer >= \(minimum), got \(quoted(text))")
        }
        guard let value = Int(text) else {
            throw SpecProblem(location, "\(name) is too large, got \(quoted(text))")
        }
        guard value >= minimum else {
            throw SpecProblem(location, "\(name) must be >= \(minimum), got \(quoted(text))")
        }
        return value
    }

    /// nil for the word `word` (`off`, `all`), otherwise an integer >= `minimum`.
    func integer(_ name: String, atLeast minimum: Int, orWord word: String) throws -> Int? {
        if text == word { return nil }
        guard SpecNumber.isInteger(text) else {
            throw SpecProblem(location, "\(name) must be '\(word)' or an integer >= \(minimum), got \(quoted(text))")
        }
        return try integer(name, atLeast: minimum)
    }

    /// A non-negative 64-bit integer (a seed).
    func unsigned(_ name: String) throws -> UInt64 {
        guard SpecNumber.isInteger(text) else {
            throw SpecProblem(location, "\(name) must be an integer >= 0, got \(quoted(text))")
        }
        var digits = Substring(text)
        let negative = digits.first == "-"
        if negative || digits.first == "+" { digits = digits.dropFirst() }
        guard let value = UInt64(digits) else {
            throw SpecProblem(location, "\(name) must be < 2^64, got \(quoted(text))")
        }
        guard !negative || value == 0 else {
            throw SpecProblem(location, "\(name) must be >= 0, got \(quoted(text))")
        }
        return value
    }

    /// One of the raw values of `E` (`norm must be one of batch, group, ...; got 'x'`).
    func choice<E: CaseIterable & RawRepresentable>(_ name: String, _ type: E.Type) throws -> E
    where E.RawValue == String {
        let raw = try oneOf(name, E.allCases.map(\.rawValue))
        guard let value = E(rawValue: raw) else {
            throw SpecProblem(location, "\(name) cannot be \(quoted(text))")
        }
        return value
    }

    /// `text` when it is one of `names`; otherwise the error lists them all and
    /// suggests the nearest.
    @discardableResult
    func oneOf(_ name: String, _ names: [String]) throws -> String {
        guard names.contains(text) else {
            throw SpecProblem(location, "\(name) must be one of \(names.joined(separator: ", ")); got \(quoted(text))"
                              + NearestName.suggestion(for: text, in: names))
        }
        return text
    }

    /// `on` -> true, `off` -> false.
    func onOff(_ name: String) throws -> Bool {
        try oneOf(name, ["on", "off"]) == "on"
    }

    /// The pieces of this token between `separator` bytes (empty pieces kept),
    /// each located where it starts: `16,32` -> `16` at column c, `32` at c + 3.
    func split(_ separator: Unicode.Scalar) -> [SpecToken] {
        let bytes = Array(text.utf8)
        var pieces: [SpecToken] = []
        var start = 0
        for i in 0...bytes.count where i == bytes.count || bytes[i] == UInt8(ascii: separator) {
            pieces.append(SpecToken(text: String(decoding: bytes[start..<i], as: UTF8.self),
                                    location: SourceLocation(line: location.line, column: location.column + start)))
            start = i + 1
        }
        return pieces
    }

    /// Exactly `count` pieces between `separator`s, or an error that shows the expected `form`.
    func split(_ separator: Unicode.Scalar, count: Int, name: String, form: String) throws -> [SpecToken] {
        let pieces = split(separator)
        guard pieces.count == count else {
            throw SpecProblem(location, "\(name) must look like \(form), got \(quoted(text))")
        }
        return pieces
    }

    /// A comma-separated list of integers >= `minimum` (`channels=16,32`).
    func integerList(_ name: String, atLeast minimum: Int) throws -> [Int] {
        try split(",").map { try $0.integer(name, atLeast: minimum) }
    }
}
