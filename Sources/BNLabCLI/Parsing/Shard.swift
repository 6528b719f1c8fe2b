/// The value of `--shard K/N`: this process trains the K-th of N disjoint shares of a run's cells.
///
/// Both numbers count from 1 and satisfy `1 <= index <= count`; `K/N` text outside that range is refused.
/// Which cells belong to which share is decided by the run itself, not here.
public struct Shard: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// K: which share, from 1 to `count`.
    public let index: Int
    /// N: how many shares the run is split into (at least 1).
    public let count: Int

    /// Creates shard `index` of `count`; nil unless `1 <= index <= count`.
    public init?(index: Int, count: Int) {
        guard count >= 1, index >= 1, index <= count else { return nil }
        self.index = index
        self.count = count
    }

    /// Parses `K/N` (decimal integers, no spaces); nil for anything else or when not `1 <= K <= N`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else { return nil }
        self.init(index: index, count: count)
    }

    /// `K/N`, the form `--shard` takes.
    public var description: String { "\(index)/\(count)" }
}
