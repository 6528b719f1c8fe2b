import TensorCore

/// How training samples are grouped into batches each epoch.
public enum BatchOrder: String, CaseIterable, Hashable, Sendable {
    /// A new random permutation every epoch (the i.i.d. assumption BatchNorm relies on).
    case shuffled
    /// Sorted by label and never shuffled, as a label-sorted file read in order.
    case sorted
    /// Every batch holds one class (classes shuffled within, batch order shuffled per epoch).
    case classBlocked = "class-blocked"

    /// The batches of one epoch, as lists of sample indices. With `dropLast`,
    /// batches smaller than `batchSize` are dropped (for `classBlocked`, the
    /// remainder of each class).
    public func batches(labels: [Int32], batchSize: Int, dropLast: Bool, rng: inout RandomGenerator) -> [[Int]] {
        precondition(batchSize >= 1, "batch size must be >= 1")
        func chunk(_ order: [Int]) -> [[Int]] {
            var result: [[Int]] = []
            var start = 0
            while start < order.count {
                let end = min(start + batchSize, order.count)
                if end - start == batchSize || !dropLast { result.append(Array(order[start..<end])) }
                start = end
            }
            return result
        }
        switch self {
        case .shuffled:
            return chunk(rng.permutation(labels.count))
        case .sorted:
            return chunk(Array(0..<labels.count).sorted { (labels[$0], $0) < (labels[$1], $1) })
        case .classBlocked:
            let classes = Set(labels).sorted()
            var all: [[Int]] = []
            for c in classes {
                var members = labels.indices.filter { labels[$0] == c }
                rng.shuffle(&members)
                all += chunk(members)
            }
            rng.shuffle(&all)
            return all
        }
    }

    /// How many batches ``batches(labels:batchSize:dropLast:rng:)`` makes: the same for every draw.
    public func batchCount(labels: [Int32], batchSize: Int, dropLast: Bool) -> Int {
        func chunks(_ n: Int) -> Int { dropLast ? n / batchSize : (n + batchSize - 1) / batchSize }
        switch self {
        case .shuffled, .sorted:
            return chunks(labels.count)
        case .classBlocked:
            var perClass: [Int32: Int] = [:]
            for label in labels { perClass[label, default: 0] += 1 }
            return perClass.values.map(chunks).reduce(0, +)
        }
    }
}
