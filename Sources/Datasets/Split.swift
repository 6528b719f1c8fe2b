import SpecFormat
import TensorCore

/// Draws disjoint train and test index sets with the class proportions of `labels`.
///
/// - Per-class counts: class `c` with `n_c` of the `N` samples gets `trainCount * n_c / N`
///   train samples rounded by the largest-remainder method (floors first, then one more to
///   the classes with the largest remainders, ties to the smaller label), so every class is
///   within one sample of its exact share and the counts add up to `trainCount`. Test counts
///   are allotted the same way from what each class has left.
/// - Draws, in this order: each class's indices (ascending) shuffled with `rng`, classes in
///   ascending label order; a class's first samples go to train, the next to test. Then the
///   train list and the test list are each shuffled, so their order does not reveal the labels
///   (mnist_5k.csv.gz is sorted by label).
///
/// Throws when `trainCount + testCount` exceeds `labels.count` or a count is negative;
/// the error's path is `"stratifiedSplit"`.
public func stratifiedSplit(labels: [Int32], trainCount: Int, testCount: Int,
                            rng: inout RandomGenerator) throws -> (train: [Int], test: [Int]) {
    guard trainCount >= 0, testCount >= 0, trainCount + testCount <= labels.count else {
        throw DatasetError(path: "stratifiedSplit", message: "cannot draw \(trainCount) train + \(testCount) "
            + "test samples from \(labels.count) available")
    }
    if labels.isEmpty { return ([], []) }
    let classes = Dictionary(grouping: labels.indices, by: { labels[$0] }).sorted { $0.key < $1.key }
    let sizes = classes.map(\.value.count)
    let trainPerClass = largestRemainder(total: trainCount, weights: sizes, capacities: sizes)
    let testPerClass = largestRemainder(total: testCount, weights: sizes,
                                        capacities: zip(sizes, trainPerClass).map { $0 - $1 })
    var train: [Int] = [], test: [Int] = []
    train.reserveCapacity(trainCount)
    test.reserveCapacity(testCount)
    for (c, (_, members)) in classes.enumerated() {
        var members = members
        rng.shuffle(&members)
        train += members[..<trainPerClass[c]]
        test += members[trainPerClass[c]..<(trainPerClass[c] + testPerClass[c])]
    }
    rng.shuffle(&train)
    rng.shuffle(&test)
    return (train, test)
}

/// Splits `total` into integer parts proportional to `weights` (largest-remainder method),
/// part `i` at most `capacities[i]`: floors of `total * w_i / sum(w)`, then one more each to
/// the parts with the largest remainders (ties to the lower index), skipping full parts,
/// repeating the round only if capacities forced skips.
func largestRemainder(total: Int, weights: [Int], capacities: [Int]) -> [Int] {
    let weightSum = weights.reduce(0, +)
    var parts = weights.map { total * $0 / weightSum }
    let remainders = weights.map { total * $0 % weightSum }
    let order = weights.indices.sorted { (remainders[$0], $1) > (remainders[$1], $0) }
    var left = total - parts.reduce(0, +)
    while left > 0 {
        var progressed = false
        for i in order where left > 0 && parts[i] < capacities[i] {
            parts[i] += 1
            left -= 1
            progressed = true
        }
        precondition(progressed, "largestRemainder: capacities \(capacities) cannot hold \(total)")
    }
    return parts
}
