import Charts
import Datasets
import Experiment
import SpecFormat
import NN
import TensorCore
import XCTest

/// Monte-Carlo dropout accuracy (`Evaluation.monteCarloDropoutAccuracy`): dropout active,
/// normalization on running statistics, softmax probabilities averaged over passes.
/// Accuracies are ratios of small integers, compared exactly.
final class RunMCDropoutTests: XCTestCase {
    static let mcMode = Mode(normalization: .eval, dropout: .train)

    /// 30 samples of 2 features with labels from `x0 >= x1`; the model is
    /// `Flatten -> Dropout(p) -> identity Linear`, so a dropped feature reads as 0.
    func identityCase(p: Float) throws -> (Sequential, ImageDataset) {
        var rng = RandomGenerator(seed: 5)
        let images = (0..<30).map { _ in [rng.uniform(-1, 1), rng.uniform(-1, 1)] }
        let data = try handDataset(images, labels: images.map { Int32($0[0] >= $0[1] ? 0 : 1) }, classes: 2, channels: 2)
        let model = Sequential([Flatten(), try Dropout(p: p, rng: RandomGenerator(seed: 8)),
                                handLinear(weights: [[1, 0], [0, 1]], bias: [0, 0])])
        return (model, data)
    }

    /// One pass equals one dropout forward with the stream that pass draws: Dropout layer `i`
    /// reseeded from `rng.derived("mc-0-i")` (the derivation `monteCarloDropoutAccuracy` uses).
    func testOnePassEqualsASingleDropoutPassWithTheSameSeed() throws {
        let (model, data) = try identityCase(p: 0.5)
        let rng = RandomGenerator(seed: 77)
        let single = model.clone()
        single.dropoutLayers[0].reseed(rng.derived("mc-0-0"))
        let expected = try Evaluation.accuracy(model: single, data: data, batchSize: 4, mode: Self.mcMode).correct.percent
        let mc = try Evaluation.monteCarloDropoutAccuracy(model: model.clone(), data: data, batchSize: 4,
                                                          passes: 1, rng: rng)
        XCTAssertEqual(mc, expected)
        XCTAssertLessThan(mc, 100, "dropout was active: some samples lost their deciding feature")
        // masks are drawn value by value in data order, so batching does not change them
        for batchSize in [1, 7, 30] {
            XCTAssertEqual(try Evaluation.monteCarloDropoutAccuracy(model: model.clone(), data: data,
                                                                    batchSize: batchSize, passes: 1, rng: rng), mc)
        }
    }

    func testZeroDropoutEqualsEvalModeWithRunningStatistics() throws {
        // Flatten -> Dropout(0) -> BatchNorm with running mean (2, 0): eval mode calls all class 1
        // (50%); batch statistics would give 75% or 100% (see RunTrainEvalModeTests).
        let labels: [Int32] = [0, 1, 0, 1, 0, 0, 1, 1]
        let data = try handDataset(labels.map { [$0 == 0 ? 1 : -1, 0] }, labels: labels, classes: 2, channels: 2)
        let model = Sequential([Flatten(), try Dropout(p: 0, rng: RandomGenerator(seed: 1)),
                                handBatchNorm(mean: [2, 0], variance: [1, 1])])
        let eval = try Evaluation.accuracy(model: model, data: data, batchSize: 2, mode: .eval).correct.percent
        XCTAssertEqual(eval, 50)
        for passes in [1, 3] {
            XCTAssertEqual(try Evaluation.monteCarloDropoutAccuracy(model: model, data: data, batchSize: 2, passes: passes,
                                                                    rng: RandomGenerator(seed: 2)), eval)
        }
        let (identity, identityData) = try identityCase(p: 0)
        XCTAssertEqual(try Evaluation.monteCarloDropoutAccuracy(model: identity, data: identityData, batchSize: 4, passes: 2,
                                                                rng: RandomGenerator(seed: 2)),
                       try Evaluation.accuracy(model: identity, data: identityData, batchSize: 4, mode: .eval).correct.percent)
    }

    /// Probabilities, not votes. One feature `x = 1`, `Dropout(p = 0.75)` (kept value 4),
    /// `Linear(1 -> 2)` with weights `(2.525, 0)` and bias `(0, 0.1)`:
    /// - dropped (probability 3/4): logits `(0, 0.1)`, class 1 by a hair (p1 = 0.525);
    /// - kept (1/4): logits `(10.1, 0.1)`, class 0 almost surely (p0 = 0.99995).
    /// Over 100 passes a majority vote says class 1 unless half the passes keep the value
    /// (binomial(100, 1/4) >= 50: probability below 1e-7); the averaged probability says
    /// class 0 as soon as more than 5% keep it (below that: probability about 1e-8).
    /// Every sample is class 0, so averaging probabilities scores 100% and voting would score 0%.
    func testPassesAverageProbabilitiesNotVotes() throws {
        let data = try handDataset(Array(repeating: [1], count: 20), labels: Array(repeating: 0, count: 20),
                                   classes: 2, channels: 1)
        let model = Sequential([Flatten(), try Dropout(p: 0.75, rng: RandomGenerator(seed: 1)),
                                handLinear(weights: [[2.525], [0]], bias: [0, 0.1])])
        let rng = RandomGenerator(seed: 31)
        XCTAssertEqual(try Evaluation.monteCarloDropoutAccuracy(model: model, data: data, batchSize: 6, passes: 100, rng: rng), 100)
        // a single pass is a vote of one: only the samples whose value was kept are right
        let one = try Evaluation.monteCarloDropoutAccuracy(model: model, data: data, batchSize: 6, passes: 1, rng: rng)
        XCTAssertGreaterThan(one, 0)
        XCTAssertLessThan(one, 50)
    }
}
