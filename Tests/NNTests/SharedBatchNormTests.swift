import NN
import TensorCore
import XCTest

/// ``SharedBatchNormSite``: one BatchNorm module called at two places (pytorch/pytorch#1738) and the
/// shared-affine remedy (detectron2's `CycleBatchNormList`), on hand inputs whose statistics are
/// known, by finite differences, and in the containers (parameters, clone, state dict).
///
/// Hand input, `(N, C) = (2, 1)` per call: site 0 sees (1, 3) (mean 2, unbiased variance 2), site 1
/// sees (10, 20) (mean 15, unbiased variance 50). From the init (0, 1), momentum 0.1:
/// - shared module, site 0 then site 1: `mean = 0.9 * (0.9 * 0 + 0.1 * 2) + 0.1 * 15 = 1.68`,
///   `var = 0.9 * (0.9 * 1 + 0.1 * 2) + 0.1 * 50 = 5.99`, `num_batches_tracked = 2`;
/// - shared affine: site 0 `(0.2, 1.1)`, site 1 `(1.5, 5.9)`, one batch each.
/// Tolerance 1e-6: three Float32 roundings of values below 6 (relative 6e-8 each).
final class SharedBatchNormTests: XCTestCase {
    private let first = Tensor(Shape(2, 1), [1, 3])
    private let second = Tensor(Shape(2, 1), [10, 20])

    private func assertStatistics(_ layer: RunningStatisticsLayer, mean: Float, variance: Float, batches: Int,
                                  file: StaticString = #filePath, line: UInt = #line) {
        let s = layer.snapshotRunningStatistics()
        XCTAssertEqual(s.mean[0], mean, accuracy: 1e-6, "\(layer.name) mean", file: file, line: line)
        XCTAssertEqual(s.variance[0], variance, accuracy: 1e-6, "\(layer.name) variance", file: file, line: line)
        XCTAssertEqual(s.batchesTracked, batches, "\(layer.name) num_batches_tracked", file: file, line: line)
    }

    func testSharedModuleUpdatesItsStatisticsOncePerSite() throws {
        let sites = SharedBatchNormSite.sites(2, numFeatures: 1, sharing: .module)
        let y0 = try sites[0].forward(first, mode: .train).array
        let y1 = try sites[1].forward(second, mode: .train).array
        // Each call normalizes with its OWN batch: (x - mean) / sqrt(biased var + eps), biased var 1 and 25.
        XCTAssertEqual(y0[0], Float(-1 / (1 + 1e-5 as Double).squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(y1[1], Float(5 / (25 + 1e-5 as Double).squareRoot()), accuracy: 1e-6)
        for site in sites { assertStatistics(site, mean: 1.68, variance: 5.99, batches: 2) }
        XCTAssertTrue(sites[0].runningMean === sites[1].runningMean, "one buffer, not two equal ones")
        // Eval mode normalizes both sites with the mixture.
        let eval = try sites[1].forward(Tensor(Shape(1, 1), [1.68]), mode: .eval).array
        XCTAssertEqual(eval[0], 0, accuracy: 1e-6)
    }

    func testSharedAffineKeepsStatisticsPerSite() throws {
        let sites = SharedBatchNormSite.sites(2, numFeatures: 1, sharing: .affine)
        _ = try sites[0].forward(first, mode: .train)
        _ = try sites[1].forward(second, mode: .train)
        assertStatistics(sites[0], mean: 0.2, variance: 1.1, batches: 1)
        assertStatistics(sites[1], mean: 1.5, variance: 5.9, batches: 1)
        XCTAssertTrue(sites[0].weight === sites[1].weight && sites[0].bias === sites[1].bias, "one affine")
        XCTAssertFalse(sites[0].runningMean === sites[1].runningMean)
    }

    /// Both sharings: `dweight` and `dbias` after both backwards (in reverse order) are the sums of
    /// what two separate BatchNorms with the same weights get; each site's input gradient is that
    /// separate layer's. Tolerance: float32 sums of 6 terms of size <= 3 (1e-5 absolute).
    func testSharedAffineGradientIsTheSumOfTheSitesGradients() throws {
        for sharing in SharedBatchNormSite.Sharing.allCases {
            let sites = SharedBatchNormSite.sites(2, numFeatures: 2, sharing: sharing)
            TestTensors.randomizeParameters(of: sites[0], seed: 3, 0.5, 1.5)
            let separate = [BatchNorm(2), BatchNorm(2)]
            for layer in separate {
                layer.weight.value.assign(sites[0].weight.value)
                layer.bias.value.assign(sites[0].bias.value)
            }
            let inputs = [TestTensors.normal(Shape(3, 2, 2, 2), seed: 4, mean: 0.5),
                          TestTensors.normal(Shape(3, 2, 2, 2), seed: 5, mean: -1, std: 2)]
            let dys = [TestTensors.normal(Shape(3, 2, 2, 2), seed: 6), TestTensors.normal(Shape(3, 2, 2, 2), seed: 7)]
            for s in 0..<2 {
                _ = try sites[s].forward(inputs[s], mode: .train)
                _ = try separate[s].forward(inputs[s], mode: .train)
            }
            sites[0].zeroGradients()
            let dx1 = sites[1].backward(dys[1]).array, dx0 = sites[0].backward(dys[0]).array
            for s in 0..<2 { separate[s].zeroGradients() }
            let expected = [separate[0].backward(dys[0]).array, separate[1].backward(dys[1]).array]
            XCTAssertEqual(dx0, expected[0], "\(sharing): site 0 backward reads site 0's caches")
            XCTAssertEqual(dx1, expected[1], "\(sharing): site 1 backward reads site 1's caches")
            for (shared, parts) in [(sites[0].weight, separate.map(\.weight)), (sites[0].bias, separate.map(\.bias))] {
                for c in 0..<2 {
                    XCTAssertEqual(shared.gradient.data[c], parts[0].gradient.data[c] + parts[1].gradient.data[c],
                                   accuracy: 1e-5, "\(sharing): \(shared.name)[\(c)]")
                }
            }
        }
    }

    /// `Linear(3->3) site0 Linear(3->3) site1` (no kinks), and a conv twin: every parameter's
    /// gradient, the shared affine's included, by finite differences (``GradientCheck``). The layers
    /// before a BatchNorm have no bias: its gradient is 0 in real arithmetic (BatchNorm subtracts the
    /// mean), and a finite difference of it is rounding noise only.
    func testFiniteDifferencesThroughAModelWithASharedBatchNorm() throws {
        for sharing in SharedBatchNormSite.Sharing.allCases {
            var rng = RandomGenerator(seed: 11)
            let sites = SharedBatchNormSite.sites(2, numFeatures: 3, sharing: sharing)
            let model = Sequential([Linear(3, 3, bias: false, rng: &rng), sites[0], Linear(3, 3, bias: false, rng: &rng),
                                    sites[1]])
            TestTensors.randomizeParameters(of: model, seed: 12, 0.5, 1.5)
            XCTAssertEqual(model.parameters.count, 4, "weight and bias of the shared module once")
            try GradientCheck.check(model, input: TestTensors.normal(Shape(5, 3), seed: 13, mean: 0.5), mode: .train)
                .assertPasses()
            let convSites = SharedBatchNormSite.sites(2, numFeatures: 2, sharing: sharing)
            let conv = Sequential([Conv2d(2, 2, kernelSize: 3, padding: 1, bias: false, rng: &rng), convSites[0],
                                   Conv2d(2, 2, kernelSize: 1, bias: false, rng: &rng), convSites[1]])
            TestTensors.randomizeParameters(of: conv, seed: 14, 0.5, 1.5)
            try GradientCheck.check(conv, input: TestTensors.normal(Shape(2, 2, 3, 3), seed: 15), mode: .train)
                .assertPasses()
            // Eval mode on trained statistics: dx = dy * weight / sqrt(running_var + eps) at both sites.
            _ = try model.forward(TestTensors.normal(Shape(5, 3), seed: 16, mean: 1), mode: .train)
            try GradientCheck.check(model, input: TestTensors.normal(Shape(4, 3), seed: 17), mode: .eval).assertPasses()
        }
    }

    func testCloneSharesWithinItselfAndNotWithTheOriginal() throws {
        for sharing in SharedBatchNormSite.Sharing.allCases {
            let sites = SharedBatchNormSite.sites(2, numFeatures: 1, sharing: sharing)
            let model = Sequential([sites[0], sites[1]])
            _ = try model.forward(first, mode: .train)
            let copy = model.clone()
            let copied = copy.runningStatisticsLayers
            let before = model.runningStatisticsLayers.map { $0.snapshotRunningStatistics() }
            XCTAssertEqual(copied.map { $0.snapshotRunningStatistics() }, before, "\(sharing): the same values")
            XCTAssertTrue(copied[0].weight === copied[1].weight, "\(sharing): the copy's sites share one weight")
            XCTAssertFalse(copied[0].weight === sites[0].weight, "\(sharing): not the original's")
            XCTAssertEqual(copied[0].runningMean === copied[1].runningMean, sharing == .module,
                           "\(sharing): statistics shared in the copy exactly as in the original")
            XCTAssertEqual(copy.parameters.count, 2)
            _ = try copy.forward(second, mode: .train)
            XCTAssertEqual(model.runningStatisticsLayers.map { $0.snapshotRunningStatistics() }, before,
                           "\(sharing): training the copy leaves the original")
            // A lone site's clone shares with nothing.
            XCTAssertFalse(sites[1].clone().weight === sites[0].weight)
        }
    }

    func testStateDictListsASharedTensorOnce() throws {
        var rng = RandomGenerator(seed: 1)
        func model(_ sharing: SharedBatchNormSite.Sharing) -> Sequential {
            let sites = SharedBatchNormSite.sites(2, numFeatures: 2, sharing: sharing)
            return Sequential([Linear(2, 2, rng: &rng), sites[0], ReLU(), Linear(2, 2, rng: &rng), sites[1]])
        }
        XCTAssertEqual(model(.module).stateDictEntries.map(\.key), [
            "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
            "3.weight", "3.bias",
        ])
        XCTAssertEqual(model(.affine).stateDictEntries.map(\.key), [
            "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
            "3.weight", "3.bias", "4.running_mean", "4.running_var", "4.num_batches_tracked",
        ])
        // A round trip through a file restores the shared state, for both sites.
        let trained = model(.affine)
        _ = try trained.forward(TestTensors.normal(Shape(4, 2), seed: 2), mode: .train)
        let fresh = model(.affine)
        try fresh.load(stateDict: trained.stateDict())
        XCTAssertEqual(fresh.runningStatisticsLayers.map { $0.snapshotRunningStatistics() },
                       trained.runningStatisticsLayers.map { $0.snapshotRunningStatistics() })
    }
}
