/// The shape of a ``Tensor``: `(N, C)` or `(N, C, H, W)`, stored inline so that
/// making or comparing one never allocates (layers compare shapes every step).
///
/// Legend used across the project: `N` = batch, `C` = channels or features,
/// `H`, `W` = height and width of a feature map.
public struct Shape: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Number of dimensions: 1, 2 or 4.
    public let rank: Int
    private let d0: Int, d1: Int, d2: Int, d3: Int

    /// A vector of `n` values (parameters such as a bias).
    public init(_ n: Int) {
        precondition(n >= 0, "negative dimension \(n)")
        rank = 1; d0 = n; d1 = 1; d2 = 1; d3 = 1
    }

    /// `(N, C)`.
    public init(_ n: Int, _ c: Int) {
        precondition(n >= 0 && c >= 0, "negative dimension in (\(n), \(c))")
        rank = 2; d0 = n; d1 = c; d2 = 1; d3 = 1
    }

    /// `(N, C, H, W)`.
    public init(_ n: Int, _ c: Int, _ h: Int, _ w: Int) {
        precondition(n >= 0 && c >= 0 && h >= 0 && w >= 0, "negative dimension in (\(n), \(c), \(h), \(w))")
        rank = 4; d0 = n; d1 = c; d2 = h; d3 = w
    }

    /// Dimension `i` (0-based).
    public subscript(i: Int) -> Int {
        precondition(i >= 0 && i < rank, "dimension \(i) out of range for rank \(rank)")
        switch i { case 0: return d0; case 1: return d1; case 2: return d2; default: return d3 }
    }

    /// Batch size (first dimension).
    public var batch: Int { d0 }
    /// Channels or features (second dimension); 1 for a rank-1 shape.
    public var channels: Int { rank >= 2 ? d1 : 1 }
    /// `H * W` for `(N, C, H, W)`, 1 otherwise: the values per channel per sample.
    public var spatial: Int { rank == 4 ? d2 * d3 : 1 }
    /// Values per sample: `C * H * W`.
    public var perSample: Int { rank == 1 ? 1 : d1 * spatial }
    /// Total number of values.
    public var count: Int { rank == 1 ? d0 : d0 * perSample }

    /// The same shape with another batch size.
    public func withBatch(_ n: Int) -> Shape {
        switch rank {
        case 1: return Shape(n)
        case 2: return Shape(n, d1)
        default: return Shape(n, d1, d2, d3)
        }
    }

    public var dims: [Int] { (0..<rank).map { self[$0] } }
    public var description: String { "(" + dims.map(String.init).joined(separator: ", ") + ")" }
}
