import NN
import TensorCore
import XCTest

/// ``RunningStatisticsLayer/lastBatchStatistics``: the statistics of the last batch a layer
/// normalized with, which recalibration reads instead of bending the running update.
/// Shape legend: `x (N, C, H, W)`, `m = N*H*W` values per channel.
///
/// Tolerance: the layer computes the moments in Double and rounds them once to Float;
/// recomputed here in Double from the same Float inputs of O(1-10), they agree to Float
/// rounding (6e-8 relative): 1e-6 relative.
final class BatchStatisticsTests: XCTestCase {
    /// Mean, BIASED and UNBIASED variance of channel `c` over `samples`, in Double.
    private func moments(_ x: Tensor, channel c: Int, samples: Range<Int>) -> (Double, Double, Double) {
        let channels = x.shape.channels, hw = x.shape.spatial
        var values: [Double] = []
        for s in samples { for i in 0..<hw { values.append(Double(x[(s * channels + c) * hw + i])) } }
        let m = Double(values.count), mean = values.reduce(0, +) / m
        let biased = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / m
        return (mean, biased, biased * m / (m - 1))
    }

    private func assertStatistics(_ s: BatchStatistics?, of x: Tensor, samples: Range<Int>, _ message: String,
                                  file: StaticString = #filePath, line: UInt = #line) throws {
        let s = try XCTUnwrap(s, message, file: file, line: line)
        XCTAssertEqual(s.valuesPerChannel, samples.count * x.shape.spatial, message, file: file, line: line)
        for c in 0..<x.shape.channels {
            let (mean, biased, unbiased) = moments(x, channel: c, samples: samples)
            XCTAssertEqual(Double(s.mean[c]), mean, accuracy: 1e-6 * max(1, abs(mean)), "\(message) mean \(c)", file: file, line: line)
            XCTAssertEqual(Double(s.variance[c]), biased, accuracy: 1e-6 * biased, "\(message) var \(c)", file: file, line: line)
            XCTAssertEqual(Double(s.unbiasedVariance[c]), unbiased, accuracy: 1e-6 * unbiased, "\(message) unbiased \(c)",
                           file: file, line: line)
        }
    }

    func testBatchNormRecordsTheBatchItNormalizedWith() throws {
        let layer = BatchNorm(3)
        XCTAssertNil(layer.lastBatchStatistics, "no batch seen yet")
        let x = TestTensors.normal(Shape(4, 3, 2, 3), seed: 1, mean: 2, std: 3)
        _ = try layer.forward(x, mode: .train)
        try assertStatistics(layer.lastBatchStatistics, of: x, samples: 0..<4, "BatchNorm")
        // The running update took the same unbiased variance: from (0, 1) with momentum 0.1.
        let s = try XCTUnwrap(layer.lastBatchStatistics)
        for c in 0..<3 {
            XCTAssertEqual(layer.runningMean[c], 0.9 * 0 + 0.1 * s.mean[c])
            XCTAssertEqual(layer.runningVar[c], 0.9 * 1 + 0.1 * s.unbiasedVariance[c])
        }
        // Eval passes use the running statistics and leave the record alone.
        let before = layer.lastBatchStatistics
        _ = try layer.forward(TestTensors.normal(Shape(2, 3, 2, 3), seed: 2), mode: .eval)
        XCTAssertEqual(layer.lastBatchStatistics, before)
    }

    func testGhostBatchNormRecordsItsLastGhostBatch() throws {
        let layer = BatchNorm(2, ghostBatchSize: 2)
        let x = TestTensors.normal(Shape(5, 2, 2, 2), seed: 3, mean: -1, std: 2)
        _ = try layer.forward(x, mode: .train)
        try assertStatistics(layer.lastBatchStatistics, of: x, samples: 4..<5, "last ghost batch")
    }

    func testUntrackedBatchNormRecordsItsEvalBatchToo() throws {
        // Without running statistics eval mode normalizes with the batch's own.
        let layer = BatchNorm(2, trackRunningStats: false)
        let x = TestTensors.normal(Shape(3, 2, 2, 2), seed: 4, std: 2)
        _ = try layer.forward(x, mode: .eval)
        try assertStatistics(layer.lastBatchStatistics, of: x, samples: 0..<3, "untracked eval")
    }

    func testBatchRenormRecordsTheUncorrectedBatchStatistics() throws {
        let layer = BatchRenorm(3, limits: BatchRenorm.Limits(rMax: 1.5, dMax: 0.5))
        let x = TestTensors.normal(Shape(4, 3, 2, 2), seed: 5, mean: 3, std: 4)
        _ = try layer.forward(x, mode: .train)
        try assertStatistics(layer.lastBatchStatistics, of: x, samples: 0..<4, "BatchRenorm")
    }
}
