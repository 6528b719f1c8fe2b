import Datasets
@testable import Experiment
import NN
@testable import SpecFormat
import TensorCore
import XCTest

/// `shared_bn`: the blocks that share, the spec's refusals, and the harness passes on a shared module
/// (recalibration as fvcore and `update_bn` see one module called twice, the probe at both sites).
final class RunSharedBatchNormTests: XCTestCase {
    func testTheFirstBlockOfARepeatedWidthSharesWithTheEarlierOne() throws {
        XCTAssertEqual(ModelArchitecture.cnn(channels: [16, 16, 32], kernel: 3).sharedNormalizationBlocks?.first, 0)
        XCTAssertEqual(ModelArchitecture.cnn(channels: [16, 16, 32], kernel: 3).sharedNormalizationBlocks?.second, 1)
        XCTAssertEqual(ModelArchitecture.cnn(channels: [8, 16, 16, 8], kernel: 3).sharedNormalizationBlocks?.first, 1)
        XCTAssertEqual(ModelArchitecture.cnn(channels: [16, 32, 16], kernel: 3).sharedNormalizationBlocks?.second, 2)
        XCTAssertNil(ModelArchitecture.cnn(channels: [16, 32], kernel: 3).sharedNormalizationBlocks)
        XCTAssertEqual(ModelArchitecture.mlp(widths: [4, 4]).sharedNormalizationBlocks?.second, 1)
    }

    func testRecipeBuildsTwoSitesOfOneModule() throws {
        for (setting, sharing) in [(SharedBatchNormSetting.shared, SharedBatchNormSite.Sharing.module), (.sharedAffine, .affine)] {
            let model = try ModelRecipe(architecture: .cnn(channels: [3, 3, 4], kernel: 3), sharedBN: setting)
                .build(channels: 1, height: 12, width: 12, classes: 3, rng: RandomGenerator(seed: 1))
            let norms = model.runningStatisticsLayers
            XCTAssertEqual(norms.count, 3)
            let sites = norms.compactMap { $0 as? SharedBatchNormSite }
            XCTAssertEqual(sites.map(\.site), [0, 1])
            XCTAssertEqual(sites.map(\.sharing), [sharing, sharing])
            XCTAssertTrue(model.layers[1] === sites[0] && model.layers[5] === sites[1], "blocks 1 and 2 of the spec")
            XCTAssertTrue(norms[2] is BatchNorm)
            let ids = model.parameters.map { ObjectIdentifier($0) }
            XCTAssertEqual(Set(ids).count, ids.count, "no parameter twice: the optimizer steps each once")
        }
        let plain = try ModelRecipe(architecture: .cnn(channels: [3, 3], kernel: 3))
            .build(channels: 1, height: 12, width: 12, classes: 3, rng: RandomGenerator(seed: 1))
        XCTAssertTrue(plain.runningStatisticsLayers.allSatisfy { $0 is BatchNorm }, "off: today's model")
    }

    func testSpecRefusesASharingWithoutTwoEqualWidthsOrWithoutBatchNorm() throws {
        assertSpecError("model cnn channels=16,32\nshared_bn shared",
                        "t.spec:2:11: error: shared_bn shared shares the BatchNorm module of two blocks of the same"
                            + " channel count, but the model's are 16,32, all different (e.g. channels=16,16,32 shares"
                            + " blocks 1 and 2)")
        assertSpecError("model mlp widths=4,8\nsweep shared_bn off shared-affine",
                        "t.spec:2:21: error: shared_bn shared-affine shares the BatchNorm module of two blocks of the"
                            + " same width, but the model's are 4,8, all different (e.g. channels=16,16,32 shares"
                            + " blocks 1 and 2)")
        assertSpecError("model cnn channels=4,4\nnorm batchrenorm\nshared_bn shared",
                        "t.spec:3:11: error: shared_bn shared shares a BatchNorm module, but norm is batchrenorm;"
                            + " it needs norm batch")
        let cells = try parseSpec("model cnn channels=4,4\nsweep shared_bn off shared shared-affine").cells()
        XCTAssertEqual(cells.map(\.sharedBN), [.off, .shared, .sharedAffine])
        XCTAssertEqual(Cell(cells[2], index: 2).model.sharedBN, .sharedAffine)
    }

    /// `Sequential([site0, site1])` over the 10 offset images in one batch, site 0 with weight 2 and bias 3,
    /// so site 1 sees mean 3 and biased variance `4 * var0 / (var0 + eps)` (var0 ~ 34). fvcore reads the
    /// module after the pass with momentum 1: the LAST call's statistics; `update_bn` averages both calls.
    /// Tolerance 1e-4 relative: Float32 statistics of O(1-40) values and one average.
    func testRecalibrationSeesOneModuleCalledTwice() throws {
        let data = try offsetImages(count: 10, channels: 2, height: 1, width: 2, seed: 5)
        let (mean, variance) = populationMoments(data)
        let m = 20.0  // values per channel in the batch
        let inner = (0..<2).map { 4 * variance[$0] / (variance[$0] + 1e-5) }
        for estimator in VarianceEstimator.allCases {
            let sites = SharedBatchNormSite.sites(2, numFeatures: 2, sharing: .module)
            sites[0].weight.value.fill(2)
            sites[0].bias.value.fill(3)
            let model = Sequential([sites[0], sites[1]])
            var rng = RandomGenerator(seed: 9)
            try Recalibration.recalibrate(model: model, data: data, samples: 10, batchSize: 10, estimator: estimator,
                                          rng: &rng)
            let s = sites[1].snapshotRunningStatistics()
            XCTAssertEqual(sites[0].snapshotRunningStatistics(), s, "one module")
            XCTAssertEqual(s.batchesTracked, 2, "two calls in the one pass")
            for c in 0..<2 {
                switch estimator {
                case .population:
                    assertRelative(Double(s.mean[c]), 3, 1e-4, "fvcore: the last call's mean")
                    assertRelative(Double(s.variance[c]), inner[c], 1e-4, "fvcore: the last call's biased variance")
                case .meanOfBatchVariances:
                    assertRelative(Double(s.mean[c]), (mean[c] + 3) / 2, 1e-4, "update_bn: both calls")
                    assertRelative(Double(s.variance[c]), (variance[c] + inner[c]) * m / (m - 1) / 2, 1e-4,
                                   "update_bn: both calls' unbiased variances")
                }
            }
        }
    }

    /// The probe measures the one shared module against each site's input: two rows, one running state.
    func testProbeMeasuresTheSharedStatisticsAtBothSites() throws {
        let data = try offsetImages(count: 10, channels: 2, height: 1, width: 2, seed: 5)
        let sites = SharedBatchNormSite.sites(2, numFeatures: 2, sharing: .module)
        sites[0].bias.value.fill(3)
        var rng = RandomGenerator(seed: 3)
        let twoSites = Sequential([sites[0], sites[1], Flatten(), Linear(4, 3, rng: &rng)])
        let probe = try RunningStatisticsProbe.measure(model: twoSites, data: data, batchSize: 10)
        XCTAssertEqual(probe.errors.map(\.layerIndex), [0, 1])
        XCTAssertNotEqual(probe.errors[0].meanError, probe.errors[1].meanError,
                          "the same running statistics, wrong by different amounts at the two sites")
    }
}
