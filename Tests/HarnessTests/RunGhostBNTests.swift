import Charts
import Experiment
import SpecFormat
import NN
import TensorCore
import XCTest

/// Ghost BatchNorm through `ModelRecipe(ghostBatchSize:)`.
///
/// The recipe `mlp widths=2` builds `Flatten, Linear(2->2), BatchNorm(2), ReLU, Linear(2->K)`;
/// with the first Linear set to the identity, the BatchNorm sees the input features.
/// A batch of 4 with ghost size 2 is normalized as two chunks of 2:
/// feature 0 = (1, 3 | 10, 20): chunk means 2 and 15, biased variances 1 and 25;
/// feature 1 = (0, 2 | -4, 4): chunk means 1 and 0, biased variances 1 and 16.
/// Each chunk updates the running statistics once (momentum 0.1, unbiased m/(m-1) = 2):
/// `rm0 = 0.9 * 0.2 + 1.5 = 1.68`, `rv0 = 0.9 * (0.9 + 0.2) + 0.1 * 50 = 5.99`,
/// `rm1 = 0.9 * 0.1 + 0 = 0.09`, `rv1 = 0.9 * (0.9 + 0.2) + 0.1 * 32 = 4.19`.
/// Tolerance 1e-5: a few Float32 roundings of values up to 50 (relative 6e-8 each).
final class RunGhostBNTests: XCTestCase {
    func testRecipeGhostBatchNormNormalizesAndTracksPerChunk() throws {
        for ghost in [2, nil] as [Int?] {
            let model = try ModelRecipe(architecture: .mlp(widths: [2]), ghostBatchSize: ghost)
                .build(channels: 2, height: 1, width: 1, classes: 3, rng: RandomGenerator(seed: 1))
            XCTAssertEqual(model.layers.count, 5)
            let linear = model.layers[1] as! Linear
            for (i, w) in [Float(1), 0, 0, 1].enumerated() { linear.weight.value[i] = w }
            linear.bias!.value.fill(0)
            let norm = model.layers[2] as! BatchNorm
            XCTAssertEqual(norm.ghostBatchSize, ghost)

            let x = Tensor(Shape(4, 2, 1, 1), [1, 0, 3, 2, 10, -4, 20, 4])
            var h = x
            for layer in model.layers[0...2] { h = try layer.forward(h, mode: .train) }
            let y = h.array
            let s = runningStatistics(model)[0]
            if ghost == 2 {
                let a = Float(1 / (1 + 1e-5 as Double).squareRoot())
                let b5 = Float(5 / (25 + 1e-5 as Double).squareRoot()), b4 = Float(4 / (16 + 1e-5 as Double).squareRoot())
                // rows are samples: (f0, f1)
                let expected: [Float] = [-a, -a, a, a, -b5, -b4, b5, b4]
                for (actual, e) in zip(y, expected) { XCTAssertEqual(actual, e, accuracy: 1e-5) }
                XCTAssertEqual(s.batchesTracked, 2)
                XCTAssertEqual(s.mean[0], 1.68, accuracy: 1e-5)
                XCTAssertEqual(s.variance[0], 5.99, accuracy: 1e-5)
                XCTAssertEqual(s.mean[1], 0.09, accuracy: 1e-5)
                XCTAssertEqual(s.variance[1], 4.19, accuracy: 1e-5)
            } else {
                // one batch of 4: mean 8.5, squared deviations 56.25 + 30.25 + 2.25 + 132.25 = 221, unbiased 221 / 3
                XCTAssertEqual(s.batchesTracked, 1)
                XCTAssertEqual(s.mean[0], 0.85, accuracy: 1e-5)
                XCTAssertEqual(s.variance[0], 0.9 + 0.1 * 221 / 3, accuracy: 1e-5)
            }
        }
    }

    func testRecipeGivesEveryConvBlockTheGhostSize() throws {
        let model = try ModelRecipe(architecture: .cnn(channels: [3, 4], kernel: 3), ghostBatchSize: 4)
            .build(channels: 1, height: 12, width: 12, classes: 3, rng: RandomGenerator(seed: 1))
        XCTAssertEqual(model.runningStatisticsLayers.map(\.ghostBatchSize), [4, 4])
        XCTAssertEqual(model.runningStatisticsLayers.map(\.numFeatures), [3, 4])
    }
}
