import XCTest
import NN
import TensorCore

/// Finite-difference checks (``GradientCheck``, tolerances stated there) of BatchNorm in
/// every mode, GroupNorm and LayerNorm. Weights and biases are drawn in [0.5, 1.5] so that
/// no test runs at the fresh layer's special values 1 and 0; inputs have a non-zero mean
/// so that a backward that forgets to subtract the mean cannot pass.
final class NormalizationGradientTests: XCTestCase {
    private func batchNorm(_ c: Int, momentum: BNMomentum = .exponential(0.1), trackRunningStats: Bool = true,
                           ghostBatchSize: Int? = nil, seed: UInt64) -> BatchNorm {
        let layer = BatchNorm(c, momentum: momentum, trackRunningStats: trackRunningStats, ghostBatchSize: ghostBatchSize)
        TestTensors.randomizeParameters(of: layer, seed: seed, 0.5, 1.5)
        return layer
    }

    /// Running statistics away from the batch's (mean in [-1, 1), variance in [0.5, 2)).
    private func setRunningStatistics(_ layer: BatchNorm, seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        for c in 0..<layer.numFeatures {
            layer.runningMean.data[c] = rng.uniform(-1, 1)
            layer.runningVar.data[c] = rng.uniform(0.5, 2)
        }
    }

    func testBatchNormTrainFeatures() throws {
        for momentum in [BNMomentum.exponential(0.1), .cumulative] {
            let layer = batchNorm(3, momentum: momentum, seed: 1)
            let x = TestTensors.normal(Shape(6, 3), seed: 2, mean: 0.5, std: 1.5)
            try GradientCheck.check(layer, input: x, mode: .train).assertPasses()
        }
    }

    func testBatchNormTrainChannels() throws {
        for momentum in [BNMomentum.exponential(0.1), .cumulative] {
            let layer = batchNorm(2, momentum: momentum, seed: 3)
            let x = TestTensors.normal(Shape(3, 2, 3, 2), seed: 4, mean: -0.5, std: 1.5)
            try GradientCheck.check(layer, input: x, mode: .train).assertPasses()
        }
    }

    func testGhostBatchNormChunksOfTwoOnFiveSamples() throws {
        // Chunks of 2, 2 and 1 samples; the last normalizes one image's 6 values per channel.
        let layer = batchNorm(2, ghostBatchSize: 2, seed: 5)
        let x = TestTensors.normal(Shape(5, 2, 2, 3), seed: 6, mean: 0.3)
        try GradientCheck.check(layer, input: x, mode: .train).assertPasses()
    }

    func testBatchNormEval() throws {
        let layer = batchNorm(3, seed: 7)
        setRunningStatistics(layer, seed: 8)
        try GradientCheck.check(layer, input: TestTensors.normal(Shape(4, 3), seed: 9), mode: .eval).assertPasses()
        try GradientCheck.check(layer, input: TestTensors.normal(Shape(2, 3, 2, 2), seed: 10), mode: .eval).assertPasses()
    }

    func testBatchNormWithoutRunningStatisticsInEval() throws {
        // Batch statistics in eval mode: the gradient must be the train-mode one.
        let layer = batchNorm(3, trackRunningStats: false, seed: 11)
        try GradientCheck.check(layer, input: TestTensors.normal(Shape(5, 3), seed: 12, mean: 1), mode: .eval)
            .assertPasses()
        try GradientCheck.check(layer, input: TestTensors.normal(Shape(2, 3, 2, 2), seed: 13, mean: 1), mode: .eval)
            .assertPasses()
    }

    func testGroupNorm() throws {
        for groups in [1, 2, 4] {
            let layer = try GroupNorm(groups: groups, channels: 4)
            TestTensors.randomizeParameters(of: layer, seed: 14, 0.5, 1.5)
            let x = TestTensors.normal(Shape(2, 4, 2, 3), seed: 15, mean: 0.5)
            try GradientCheck.check(layer, input: x, mode: .train).assertPasses()
        }
        // On (N, C) each group of 3 features is one segment. (Segments of 2 values would be
        // degenerate: they normalize to about +-1 whatever x is, so dL/dx is ~1e-5, rounding level.)
        let features = try GroupNorm(groups: 2, channels: 6)
        TestTensors.randomizeParameters(of: features, seed: 16, 0.5, 1.5)
        try GradientCheck.check(features, input: TestTensors.normal(Shape(3, 6), seed: 17, mean: 0.5), mode: .eval)
            .assertPasses()
    }

    func testLayerNorm() throws {
        let features = LayerNorm(sampleShape: Shape(1, 5))
        TestTensors.randomizeParameters(of: features, seed: 18, 0.5, 1.5)
        try GradientCheck.check(features, input: TestTensors.normal(Shape(3, 5), seed: 19, mean: 0.5), mode: .train)
            .assertPasses()
        let maps = LayerNorm(sampleShape: Shape(1, 3, 2, 2))
        TestTensors.randomizeParameters(of: maps, seed: 20, 0.5, 1.5)
        try GradientCheck.check(maps, input: TestTensors.normal(Shape(2, 3, 2, 2), seed: 21, mean: 0.5), mode: .train)
            .assertPasses()
    }
}
