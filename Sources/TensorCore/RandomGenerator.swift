import Foundation

/// The one random generator of the project: SplitMix64 (Steele, Lea & Flood,
/// "Fast splittable pseudorandom number generators", OOPSLA 2014).
///
/// Every random draw (initialization, shuffling, dropout masks, data
/// generation) comes from a generator derived from the run's seed with
/// ``derived(_:)-(String)``, so one seed gives bit-identical results and
/// adding a new consumer does not shift the draws of the others.
///
/// A value type: copying a generator copies its stream position. Pass it
/// `inout` to draw from the same stream.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// SplitMix64's output function.
    @inline(__always)
    static func mix(_ z0: UInt64) -> UInt64 {
        var z = z0
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// An independent stream named by `label`; does not advance `self`.
    public func derived(_ label: UInt64) -> RandomGenerator {
        RandomGenerator(seed: Self.mix(state ^ Self.mix(label &+ 0x632B_E59B_D9B4_E019)))
    }

    /// An independent stream named by a string (FNV-1a of its UTF-8 bytes:
    /// stable across processes, unlike `hashValue`).
    public func derived(_ label: String) -> RandomGenerator {
        derived(FNV1a.hash64(label))
    }

    /// Uniform in [0, 1) with 24 random bits (every Float32 step in [0, 1) equally likely).
    @inline(__always)
    public mutating func nextFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Uniform in [low, high).
    @inline(__always)
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * nextFloat()
    }

    /// Standard normal draw (Box-Muller, in Double, one value per call).
    public mutating func normal() -> Float {
        var u1 = nextDouble()
        while u1 <= 0 { u1 = nextDouble() }
        let u2 = nextDouble()
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// Uniform integer in `0..<bound` without modulo bias (Lemire's method).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:) needs a positive bound, got \(bound)")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// Fisher-Yates shuffle in place.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }

    /// A random permutation of `0..<n`.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }
}
