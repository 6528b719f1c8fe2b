import Charts
import Datasets
import Experiment
import NN
import TensorCore
import XCTest

/// `RunningStatisticsProbe` against its documented formulas:
/// `meanError = mean_c |running_mean_c - mu_c| / sigma_c`,
/// `varianceError = mean_c |running_var_c - sigma_c^2| / sigma_c^2`,
/// with `mu_c`, `sigma_c^2` the mean and biased variance of the layer's INPUT over the
/// data, the network running in eval mode.
///
/// The model is `BatchNorm A -> BatchNorm B` with running statistics set by hand. A sees
/// the raw images; B sees A's eval-mode output `(x - rmA) / sqrt(rvA + eps)`, whose
/// moments follow from the raw ones: `mu_B = (mu - rmA) / s`, `sigma_B^2 = sigma^2 / s^2`,
/// `s = sqrt(rvA + eps)`.
final class RunStatisticsProbeTests: XCTestCase {
    var data: ImageDataset!
    let meanA: [Float] = [1, -2], varianceA: [Float] = [4, 0.25]
    let meanB: [Float] = [0.5, 0], varianceB: [Float] = [2, 3]

    override func setUpWithError() throws {
        data = try offsetImages(count: 10, channels: 2, height: 1, width: 2, seed: 21)
    }

    func model(dropoutFirst: Bool = false) throws -> Sequential {
        let head: [Layer] = dropoutFirst ? [try Dropout(p: 0.5, rng: RandomGenerator(seed: 1))] : []
        return Sequential(head + [handBatchNorm(mean: meanA, variance: varianceA),
                                  handBatchNorm(mean: meanB, variance: varianceB)])
    }

    /// The documented formulas for running statistics `(mean, variance)` against input moments.
    func expectedErrors(running: ([Float], [Float]), input: ([Double], [Double])) -> (Double, Double) {
        var meanError = 0.0, varianceError = 0.0
        for c in 0..<2 {
            meanError += abs(Double(running.0[c]) - input.0[c]) / input.1[c].squareRoot() / 2
            varianceError += abs(Double(running.1[c]) - input.1[c]) / input.1[c] / 2
        }
        return (meanError, varianceError)
    }

    func testErrorsFollowTheFormulasAtEachLayersInput() throws {
        let raw = populationMoments(data)
        let eps = Double(Float(1e-5))
        let scales = varianceA.map { (Double($0) + eps).squareRoot() }
        let inputB = ((0..<2).map { (raw.mean[$0] - Double(meanA[$0])) / scales[$0] },
                      (0..<2).map { raw.variance[$0] / (scales[$0] * scales[$0]) })
        let expectedA = expectedErrors(running: (meanA, varianceA), input: raw)
        let expectedB = expectedErrors(running: (meanB, varianceB), input: inputB)

        let errors = try RunningStatisticsProbe.measure(model: model(), data: data, batchSize: 4).errors
        XCTAssertEqual(errors.map(\.layerIndex), [0, 1])
        XCTAssertEqual(errors.map(\.channels), [2, 2])
        XCTAssertTrue(errors[0].layerName.hasPrefix("BatchNorm(2"), errors[0].layerName)
        // Layer A: the same Float values summed in Double (one pass vs the reference's two): 1e-12.
        XCTAssertEqual(errors[0].meanError, expectedA.0, accuracy: 1e-12)
        XCTAssertEqual(errors[0].varianceError, expectedA.1, accuracy: 1e-12)
        // Layer B: A's output is computed in Float32 (rounded scale and shift, relative 1e-7 per
        // value) while the reference is exact in Double: 1e-5 on errors of order 1.
        XCTAssertEqual(errors[1].meanError, expectedB.0, accuracy: 1e-5)
        XCTAssertEqual(errors[1].varianceError, expectedB.1, accuracy: 1e-5)
        // the numbers are not degenerate: both layers are measurably off
        XCTAssertGreaterThan(min(expectedA.0, expectedA.1, expectedB.0, expectedB.1), 0.1)
    }

    func testErrorsAreZeroWhenTheRunningStatisticsAreThePopulationOnes() throws {
        let raw = populationMoments(data)
        let layer = handBatchNorm(mean: raw.mean.map { Float($0) }, variance: raw.variance.map { Float($0) })
        let errors = try RunningStatisticsProbe.measure(model: Sequential([layer]), data: data, batchSize: 3).errors
        // only the Float32 rounding of the stored statistics remains: relative 6e-8
        XCTAssertEqual(errors[0].meanError, 0, accuracy: 1e-6)
        XCTAssertEqual(errors[0].varianceError, 0, accuracy: 1e-6)
    }

    func testProbeRunsInEvalModeDoesNotDependOnTheBatchSizeAndChangesNothing() throws {
        let reference = try RunningStatisticsProbe.measure(model: model(), data: data, batchSize: 4).errors
        let withDropout = try model(dropoutFirst: true)
        let before = runningStatistics(withDropout)
        for batchSize in [1, 3, 10, 11] {
            let errors = try RunningStatisticsProbe.measure(model: withDropout, data: data, batchSize: batchSize).errors
            for (e, r) in zip(errors, reference) {
                // the same values summed in another grouping: Double rounding only
                XCTAssertEqual(e.meanError, r.meanError, accuracy: 1e-12, "batch \(batchSize)")
                XCTAssertEqual(e.varianceError, r.varianceError, accuracy: 1e-12, "batch \(batchSize)")
            }
        }
        XCTAssertEqual(runningStatistics(withDropout), before)
    }

    func testAModelWithoutRunningStatisticsHasNothingToProbe() throws {
        let errors = try RunningStatisticsProbe.measure(model: Sequential([Flatten()]), data: data, batchSize: 4).errors
        XCTAssertEqual(errors, [])
    }
}
