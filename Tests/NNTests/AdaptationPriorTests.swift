import XCTest
import NN
import TensorCore

/// Test-time BatchNorm adaptation with a prior (Schneider et al. 2020; bethgelab/robustness
/// `BayesianBatchNorm`): `Mode(normalization: .adapted(priorWeight: w))` normalizes with
/// `w * running + (1 - w) * batch` (batch variance unbiased) and never changes the running statistics.
/// Legend: `x (N, C, H, W)`, `m = N*H*W` values per channel, `w = N_prior / (N_prior + n)`.
final class AdaptationPriorTests: XCTestCase {
    private static let running = RunningStatistics(mean: [0.5, -1], variance: [2, 0.25], batchesTracked: 9)

    private func batchNorm() -> BatchNorm {
        let layer = BatchNorm(2)
        layer.weight.value.assign(Tensor(Shape(2), [1.5, 0.75]))
        layer.bias.value.assign(Tensor(Shape(2), [0.25, -0.5]))
        layer.restoreRunningStatistics(Self.running)
        return layer
    }

    /// A tiny input: per channel 4 values (N = 2, 1x2 maps): channel 0 = 1, 2, 3, 6 (mean 3, unbiased
    /// var 14/3), channel 1 = -1, 0, 0, 1 (mean 0, unbiased var 2/3).
    private let x = Tensor(Shape(2, 2, 1, 2), [1, 2, -1, 0, 3, 6, 0, 1])
    private let batchMean: [Double] = [3, 0]
    private let batchUnbiasedVariance: [Double] = [14.0 / 3, 2.0 / 3]

    /// The layer's formula by hand, in Double, with mixed statistics of prior weight `w`.
    private func expected(_ w: Double) -> [Double] {
        let gamma = [1.5, 0.75], beta = [0.25, -0.5]
        return (0..<x.count).map { i in
            let c = (i / 2) % 2
            let mean = w * Double(Self.running.mean[c]) + (1 - w) * batchMean[c]
            let variance = w * Double(Self.running.variance[c]) + (1 - w) * batchUnbiasedVariance[c]
            return (Double(x[i]) - mean) / (variance + 1e-5).squareRoot() * gamma[c] + beta[c]
        }
    }

    private func adapted(_ w: Float) -> Mode { Mode(normalization: .adapted(priorWeight: w), dropout: .eval) }

    private func assertClose(_ actual: [Float], _ expected: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        // Float arithmetic on values of size <= ~3 against Double: a few ulp, below 1e-5.
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            XCTAssertEqual(Double(a), e, accuracy: 1e-5, "\(what) [\(i)]", file: file, line: line)
        }
    }

    func testPriorZeroIsBatchStatisticsWithTheUnbiasedVariance() throws {
        let layer = batchNorm()
        assertClose(try layer.forward(x, mode: adapted(0)).array, expected(0), "w = 0")
        // Train mode's batch statistics use the biased variance: the authors' w = 0 is not exactly it.
        let train = try batchNorm().forward(x, mode: Mode(normalization: .train, dropout: .eval)).array
        XCTAssertGreaterThan(zip(train, try layer.forward(x, mode: adapted(0)).array).map { abs($0 - $1) }.max()!, 1e-2)
    }

    func testAStrongPriorIsEvalMode() throws {
        let layer = batchNorm()
        let eval = try batchNorm().forward(x, mode: .eval).array
        let n: Float = 2, prior: Float = 1e9
        assertClose(try layer.forward(x, mode: adapted(prior / (prior + n))).array, eval.map(Double.init), "N = 1e9")
        XCTAssertEqual(try layer.forward(x, mode: adapted(1)).array, eval, "w = 1 is eval mode exactly")
    }

    func testAnIntermediatePriorIsTheFormula() throws {
        // N = 6 prior samples against a batch of n = 2: w = 6 / 8.
        let layer = batchNorm()
        assertClose(try layer.forward(x, mode: adapted(0.75)).array, expected(0.75), "w = 0.75")
        // By hand for the first value: mean = 0.75 * 0.5 + 0.25 * 3 = 1.125, var = 0.75 * 2 + 0.25 * 14/3 = 8/3.
        XCTAssertEqual(Double(try layer.forward(x, mode: adapted(0.75)).array[0]),
                       (1 - 1.125) / (8.0 / 3 + 1e-5).squareRoot() * 1.5 + 0.25, accuracy: 1e-6)
    }

    func testTheRunningStatisticsAreNotChanged() throws {
        for layer in [batchNorm() as RunningStatisticsLayer, BatchRenorm(2)] {
            layer.restoreRunningStatistics(Self.running)
            let last = layer.lastBatchStatistics
            for w: Float in [0, 0.3, 1] { _ = try layer.forward(x, mode: adapted(w)) }
            _ = layer.backward(TestTensors.normal(x.shape, seed: 1))
            XCTAssertEqual(layer.snapshotRunningStatistics(), Self.running, "\(layer.name): running statistics changed")
            XCTAssertEqual(layer.lastBatchStatistics, last, "\(layer.name): the last batch statistics changed")
        }
    }

    func testBatchRenormAdaptsAsBatchNorm() throws {
        let renorm = BatchRenorm(2)
        for (mine, theirs) in zip(renorm.parameters, batchNorm().parameters) { mine.value.assign(theirs.value) }
        renorm.restoreRunningStatistics(Self.running)
        XCTAssertEqual(try renorm.forward(x, mode: adapted(0.4)).array, try batchNorm().forward(x, mode: adapted(0.4)).array)
    }

    func testOneValuePerChannelAndEvoNormB0AreRefused() {
        XCTAssertThrowsError(try batchNorm().forward(TestTensors.normal(Shape(1, 2), seed: 2), mode: adapted(0.5))) { error in
            XCTAssertEqual((error as? LayerError)?.message,
                           "Expected more than 1 value per channel when training, got input size (1, 2)")
        }
        XCTAssertThrowsError(try EvoNormB0(channels: 2).forward(x, mode: adapted(0.5))) { error in
            XCTAssertTrue((error as? LayerError)?.message.hasPrefix("test-time adaptation with a prior") ?? false, "\(error)")
        }
    }

    func testGradientInAdaptedMode() throws {
        for w: Float in [0, 0.6] {
            let layer = batchNorm()
            try GradientCheck.check(layer, input: TestTensors.normal(Shape(3, 2, 2, 2), seed: 3, mean: 0.5, std: 1.5),
                                    mode: adapted(w)).assertPasses()
            try GradientCheck.check(batchNorm(), input: TestTensors.normal(Shape(5, 2), seed: 4, mean: -0.5),
                                    mode: adapted(w)).assertPasses()
        }
    }
}
