import Charts
import Datasets
import Experiment
import SpecFormat
import NN
import TensorCore
import XCTest

/// Recalibration (PreciseBN / `update_bn`) on `Sequential([BatchNorm(2)])` over 10 images
/// of 2 channels x 1 x 2 pixels (`H*W = 2`, so batches of one image are allowed), whose
/// values carry a per-image offset: population variance about 34, within-image about 1.
///
/// Tolerances: the values are O(1-10). The BatchNorm computes batch moments in Double and
/// stores them in Float32 running buffers (relative rounding 6e-8), the estimators combine
/// them and the result is stored in Float32 again, and `cumulative` momentum averages in
/// Float32 (about one rounding per batch). So: means to 1e-5 absolute, population
/// variances to 2e-6 relative, running averages over up to 10 batches to 1e-5 relative.
/// The differences the tests separate are 5% (biased vs unbiased) or a factor of 5.
final class RunRecalibrationTests: XCTestCase {
    var data: ImageDataset!
    /// The values' own mean and biased variance per channel.
    var population: (mean: [Double], variance: [Double])!

    override func setUpWithError() throws {
        data = try offsetImages(count: 10, channels: 2, height: 1, width: 2, seed: 5)
        population = populationMoments(data)
    }

    func recalibrated(_ model: Sequential, batchSize: Int, estimator: VarianceEstimator,
                      samples: Int? = nil, seed: UInt64 = 9) throws -> RunningStatistics {
        var rng = RandomGenerator(seed: seed)
        try Recalibration.recalibrate(model: model, data: data, samples: samples ?? data.count, batchSize: batchSize,
                                      estimator: estimator, rng: &rng)
        return runningStatistics(model)[0]
    }

    /// The batches recalibration forms: `rng.permutation(count)`, cut into `batchSize` pieces
    /// (the last may be smaller); the first draw of the same generator.
    func batches(batchSize: Int, samples: Int? = nil, seed: UInt64 = 9) -> [[Int]] {
        var rng = RandomGenerator(seed: seed)
        let order = Array(rng.permutation(data.count).prefix(samples ?? data.count))
        return stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
    }

    /// `update_bn`'s expectation: the unweighted average over batches of the batch means and
    /// of the UNBIASED batch variances (m = batch * H * W values per channel).
    func meanOfBatchMoments(_ batches: [[Int]]) -> (mean: [Double], variance: [Double]) {
        var mean = [0.0, 0.0], variance = [0.0, 0.0]
        for batch in batches {
            let m = Double(batch.count * data.height * data.width)
            let moments = populationMoments(data, indices: batch)
            for c in 0..<2 {
                mean[c] += moments.mean[c] / Double(batches.count)
                variance[c] += moments.variance[c] * m / (m - 1) / Double(batches.count)
            }
        }
        return (mean, variance)
    }

    func testPopulationEstimatorRecoversTheBiasedVarianceOfAllValuesAtEveryBatchSize() throws {
        for batchSize in [1, 2, 3, 4, 7, 10, 16] {
            let s = try recalibrated(Sequential([BatchNorm(2)]), batchSize: batchSize, estimator: .population)
            for c in 0..<2 {
                XCTAssertEqual(Double(s.mean[c]), population.mean[c], accuracy: 1e-5, "batch \(batchSize) channel \(c)")
                assertRelative(Double(s.variance[c]), population.variance[c], 2e-6, "batch \(batchSize) channel \(c)")
                // not the unbiased variance of the 20 values, which is 20/19 = 5% larger
                XCTAssertGreaterThan(abs(Double(s.variance[c]) - population.variance[c] * 20 / 19), 0.01 * population.variance[c])
            }
        }
    }

    func testPopulationEstimatorBehindFlattenOnBatchNorm1d() throws {
        // the same values seen as 4 features of 1 value each: (N, 4) after Flatten
        let flat = try ImageDataset(name: "flat", channels: 4, height: 1, width: 1, images: data.images,
                                    labels: data.labels, classCount: 1)
        let expected = populationMoments(flat)
        for batchSize in [2, 4, 5, 10] {
            let model = Sequential([Flatten(), BatchNorm(4)])
            var rng = RandomGenerator(seed: 9)
            try Recalibration.recalibrate(model: model, data: flat, samples: 10, batchSize: batchSize,
                                          estimator: .population, rng: &rng)
            let s = runningStatistics(model)[0]
            for c in 0..<4 {
                XCTAssertEqual(Double(s.mean[c]), expected.mean[c], accuracy: 1e-5, "batch \(batchSize) feature \(c)")
                assertRelative(Double(s.variance[c]), expected.variance[c], 2e-6, "batch \(batchSize) feature \(c)")
            }
        }
    }

    func testPopulationEstimatorOverASubsetUsesTheFirstSamplesOfThePermutation() throws {
        let chosen = batches(batchSize: 4, samples: 4)[0]
        let expected = populationMoments(data, indices: chosen)
        let s = try recalibrated(Sequential([BatchNorm(2)]), batchSize: 3, estimator: .population, samples: 4)
        for c in 0..<2 {
            XCTAssertEqual(Double(s.mean[c]), expected.mean[c], accuracy: 1e-5)
            assertRelative(Double(s.variance[c]), expected.variance[c], 2e-6)
        }
    }

    func testMeanOfBatchVariancesAtBatchOneAveragesWithinImageVariancesAndUnderestimates() throws {
        // one image per batch: order-independent, so no permutation is needed for the expectation
        let expected = meanOfBatchMoments((0..<data.count).map { [$0] })
        let s = try recalibrated(Sequential([BatchNorm(2)]), batchSize: 1, estimator: .meanOfBatchVariances)
        for c in 0..<2 {
            XCTAssertEqual(Double(s.mean[c]), expected.mean[c], accuracy: 1e-5)
            assertRelative(Double(s.variance[c]), expected.variance[c], 1e-5, "channel \(c)")
            // it misses the variance between the images' offsets: far below the population's
            XCTAssertLessThan(Double(s.variance[c]), population.variance[c] / 5, "channel \(c)")
        }
        XCTAssertEqual(s.batchesTracked, 10)
    }

    func testMeanOfBatchVariancesAtTheWholeSplitIsTheUnbiasedVariance() throws {
        let s = try recalibrated(Sequential([BatchNorm(2)]), batchSize: 10, estimator: .meanOfBatchVariances)
        for c in 0..<2 {
            XCTAssertEqual(Double(s.mean[c]), population.mean[c], accuracy: 1e-5)
            assertRelative(Double(s.variance[c]), population.variance[c] * 20 / 19, 1e-5)
        }
    }

    func testMeanOfBatchVariancesWeighsTheSmallLastBatchLikeTheOthers() throws {
        let pieces = batches(batchSize: 4)
        XCTAssertEqual(pieces.map(\.count), [4, 4, 2])
        let expected = meanOfBatchMoments(pieces)
        let s = try recalibrated(Sequential([BatchNorm(2)]), batchSize: 4, estimator: .meanOfBatchVariances)
        for c in 0..<2 {
            XCTAssertEqual(Double(s.mean[c]), expected.mean[c], accuracy: 1e-5)
            assertRelative(Double(s.variance[c]), expected.variance[c], 1e-5, "channel \(c)")
        }
    }

    func testRecalibratingACloneLeavesTheOriginalBitIdentical() throws {
        let original = Sequential([handBatchNorm(mean: [5, -5], variance: [7, 0.5])])
        let before = runningStatistics(original)
        for estimator in VarianceEstimator.allCases {
            let copy = original.clone()
            let after = try recalibrated(copy, batchSize: 3, estimator: estimator)
            XCTAssertEqual(runningStatistics(original), before, "\(estimator)")
            XCTAssertNotEqual(after.mean, before[0].mean, "\(estimator): the copy was not recalibrated")
        }
    }

    func testGhostBatchNormIsRecalibratedOverWholeBatches() throws {
        let layer = BatchNorm(2, ghostBatchSize: 2)
        let s = try recalibrated(Sequential([layer]), batchSize: 10, estimator: .meanOfBatchVariances)
        // one batch of 10 images, not five ghost batches of 2: the unbiased variance of all 20 values
        assertRelative(Double(s.variance[0]), population.variance[0] * 20 / 19, 1e-5)
        XCTAssertEqual(s.batchesTracked, 1)
    }

    func testTheEstimateDoesNotDependOnTheLayersMomentum() throws {
        // The estimators accumulate the batch statistics themselves; the layer's own running
        // update (with its momentum) is overwritten after every pass.
        for estimator in VarianceEstimator.allCases {
            let estimates = try [BNMomentum.exponential(0.1), .exponential(0.3), .exponential(1), .cumulative].map {
                try recalibrated(Sequential([BatchNorm(2, momentum: $0)]), batchSize: 4, estimator: estimator)
            }
            for other in estimates.dropFirst() { XCTAssertEqual(other, estimates[0], "\(estimator)") }
        }
    }

    func testPopulationRecalibrationCountsItsPassesOnTopOfTraining() throws {
        let model = Sequential([handBatchNorm(mean: [5, -5], variance: [7, 0.5])])  // 3 batches tracked
        let s = try recalibrated(model, batchSize: 4, estimator: .population)
        XCTAssertEqual(s.batchesTracked, 3 + 3, "PreciseBN leaves num_batches_tracked counting on")
    }

    func testUntrackedBatchNormIsLeftAlone() throws {
        let layer = BatchNorm(2, trackRunningStats: false)
        for estimator in VarianceEstimator.allCases {
            let s = try recalibrated(Sequential([layer]), batchSize: 4, estimator: estimator)
            XCTAssertEqual(s, RunningStatistics(mean: [0, 0], variance: [1, 1], batchesTracked: 0), "\(estimator)")
        }
    }

    func testBatchRenormCorrectsAgainstWhatEachToolLeavesBetweenPasses() throws {
        // The third pass (batches of 4, 4, 2) computes r and d against the running statistics
        // the first two left: fvcore's momentum 1 leaves the second batch's mean and unbiased
        // variance, update_bn's cumulative momentum the average of the first two batches.
        // Tolerance: r and d are ratios of Float-stored statistics of O(1-10): 1e-5 relative.
        let pieces = batches(batchSize: 4)
        let moments = pieces.map { batch -> (mean: [Double], unbiased: [Double], biased: [Double]) in
            let m = Double(batch.count * data.height * data.width), p = populationMoments(data, indices: batch)
            return (p.mean, p.variance.map { $0 * m / (m - 1) }, p.variance)
        }
        let eps = 1e-5, rMax = 3.0, dMax = 5.0
        for estimator in VarianceEstimator.allCases {
            let layer = BatchRenorm(2, limits: BatchRenorm.Limits(rMax: Float(rMax), dMax: Float(dMax)))
            _ = try recalibrated(Sequential([layer]), batchSize: 4, estimator: estimator)
            for c in 0..<2 {
                let (mean, variance) = estimator == .population
                    ? (moments[1].mean[c], moments[1].unbiased[c])
                    : ((moments[0].mean[c] + moments[1].mean[c]) / 2, (moments[0].unbiased[c] + moments[1].unbiased[c]) / 2)
                let sigma = (variance + eps).squareRoot(), sigmaB = (moments[2].biased[c] + eps).squareRoot()
                let r = min(max(sigmaB / sigma, 1 / rMax), rMax)
                let d = min(max((moments[2].mean[c] - mean) / sigma, -dMax), dMax)
                assertRelative(Double(layer.lastR[c]), r, 1e-5, "\(estimator) r, channel \(c)")
                assertRelative(Double(layer.lastD[c]), d, 1e-5, "\(estimator) d, channel \(c)")
            }
        }
    }

    func testBatchOfOneOnBatchNorm1dIsRefused() throws {
        let flat = try handDataset([[1, 2], [3, 5], [0, 1]], labels: [0, 0, 0], classes: 1, channels: 2)
        let layer = BatchNorm(2, momentum: .exponential(0.3), ghostBatchSize: 2)
        var rng = RandomGenerator(seed: 1)
        XCTAssertThrowsError(try Recalibration.recalibrate(model: Sequential([Flatten(), layer]), data: flat, samples: 3,
                                                           batchSize: 1, estimator: .population, rng: &rng)) { error in
            XCTAssertTrue("\(error)".contains("Expected more than 1 value per channel"), "\(error)")
        }
    }
}
