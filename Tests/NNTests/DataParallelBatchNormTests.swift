import NN
import TensorCore
import XCTest

/// ``DataParallelBatchNorm``: K devices, each normalizing its shard, with rank 0's, reduced or
/// synchronized statistics.
///
/// Hand example, `(N, C) = (4, 1)`, K = 2, momentum 0.1, from the init (0, 1):
/// step 1 `x = (1, 3 | 10, 20)`: shard 0 mean 2, unbiased variance 2; shard 1 mean 15, variance 50;
/// step 2 `x = (2, 4 | 30, 40)`: shard 0 mean 3, variance 2; shard 1 mean 35, variance 50.
/// - rank0 (shard 0 only): after step 1 `(0.2, 1.1)`, after step 2 `(0.9 * 0.2 + 0.3, 0.9 * 1.1 + 0.2)
///   = (0.48, 1.19)`, one batch tracked per step;
/// - reduce: rank 0 as rank0; rank 1 `(1.5, 5.9)` then `(0.9 * 1.5 + 3.5, 0.9 * 5.9 + 5) = (4.85, 10.31)`;
///   the epoch-end average `((0.48 + 4.85) / 2, (1.19 + 10.31) / 2) = (2.665, 5.75)` on both ranks.
/// Tolerance 1e-5: a few Float32 roundings of values below 11.
final class DataParallelBatchNormTests: XCTestCase {
    private let step1 = Tensor(Shape(4, 1), [1, 3, 10, 20])
    private let step2 = Tensor(Shape(4, 1), [2, 4, 30, 40])

    private func assertRanks(_ layer: DataParallelBatchNorm, _ expected: [(mean: Float, variance: Float)], batches: Int,
                             file: StaticString = #filePath, line: UInt = #line) {
        let ranks = layer.rankRunningStatistics
        XCTAssertEqual(ranks.count, expected.count, "ranks with buffers", file: file, line: line)
        for (r, (s, e)) in zip(ranks, expected).enumerated() {
            XCTAssertEqual(s.mean[0], e.mean, accuracy: 1e-5, "rank \(r) mean", file: file, line: line)
            XCTAssertEqual(s.variance[0], e.variance, accuracy: 1e-5, "rank \(r) variance", file: file, line: line)
            XCTAssertEqual(s.batchesTracked, batches, "rank \(r) num_batches_tracked", file: file, line: line)
        }
    }

    /// Both per-shard policies normalize exactly as one BatchNorm per shard does (bit for bit: the same
    /// kernels over the same samples), also the input gradient and the parameter gradients' sums.
    func testEachShardIsNormalizedByItsOwnStatistics() throws {
        for policy in [DataParallelBatchNorm.Policy.rank0, .reduce] {
            let layer = DataParallelBatchNorm(2, devices: 2, policy: policy)
            TestTensors.randomizeParameters(of: layer, seed: 1, 0.5, 1.5)
            let x = TestTensors.normal(Shape(4, 2, 2, 2), seed: 2, mean: 1, std: 2)
            let dy = TestTensors.normal(Shape(4, 2, 2, 2), seed: 3)
            let y = try layer.forward(x, mode: .train).array
            layer.zeroGradients()
            let dx = layer.backward(dy).array
            let shards = [BatchNorm(2), BatchNorm(2)]
            var expectedY: [Float] = [], expectedDx: [Float] = []
            for (r, shard) in shards.enumerated() {
                shard.weight.value.assign(layer.weight.value)
                shard.bias.value.assign(layer.bias.value)
                let part = Tensor(Shape(2, 2, 2, 2), Array(x.array[(r * 16)..<((r + 1) * 16)]))
                expectedY += try shard.forward(part, mode: .train).array
                shard.zeroGradients()
                expectedDx += shard.backward(Tensor(Shape(2, 2, 2, 2), Array(dy.array[(r * 16)..<((r + 1) * 16)]))).array
            }
            XCTAssertEqual(y, expectedY, "\(policy)")
            XCTAssertEqual(dx, expectedDx, "\(policy)")
            for c in 0..<2 {
                XCTAssertEqual(layer.weight.gradient.data[c], shards[0].weight.gradient.data[c] + shards[1].weight.gradient.data[c],
                               accuracy: 1e-5)
            }
        }
    }

    func testRankZeroFollowsShardZeroAndReduceAveragesAtTheEpochEnd() throws {
        let rank0 = DataParallelBatchNorm(1, devices: 2, policy: .rank0)
        let reduce = DataParallelBatchNorm(1, devices: 2, policy: .reduce)
        for layer in [rank0, reduce] { _ = try layer.forward(step1, mode: .train) }
        assertRanks(rank0, [(0.2, 1.1)], batches: 1)
        assertRanks(reduce, [(0.2, 1.1), (1.5, 5.9)], batches: 1)
        for layer in [rank0, reduce] { _ = try layer.forward(step2, mode: .train) }
        assertRanks(rank0, [(0.48, 1.19)], batches: 2)
        assertRanks(reduce, [(0.48, 1.19), (4.85, 10.31)], batches: 2)
        // Between averages eval mode reads rank 0's buffers.
        XCTAssertEqual(try reduce.forward(Tensor(Shape(1, 1), [0.48]), mode: .eval).array[0], 0, accuracy: 1e-6)
        let model = Sequential([rank0, reduce])
        model.distributeRunningStatistics()
        assertRanks(rank0, [(0.48, 1.19)], batches: 2)
        assertRanks(reduce, [(2.665, 5.75), (2.665, 5.75)], batches: 2)
        XCTAssertEqual(model.stateDictEntries.first { $0.key == "1.running_mean" }?.value.floats?[0] ?? 0, 2.665,
                       accuracy: 1e-5, "the state dict holds the evaluated (rank 0's) buffers")
    }

    /// SyncBatchNorm against one BatchNorm on the whole batch: outputs, running statistics, input and
    /// parameter gradients. Tolerance 1e-6 relative (2e-6 absolute): the shards' Double moments
    /// combined by Chan's update against one Double pass; both rounded once to Float.
    func testSyncBatchNormEqualsFullBatchBatchNorm() throws {
        for (devices, n) in [(2, 8), (4, 8), (8, 8), (4, 10)] {
            let sync = DataParallelBatchNorm(3, devices: devices, policy: .sync)
            let full = BatchNorm(3)
            TestTensors.randomizeParameters(of: sync, seed: 4, 0.5, 1.5)
            full.weight.value.assign(sync.weight.value)
            full.bias.value.assign(sync.bias.value)
            let x = TestTensors.normal(Shape(n, 3, 2, 2), seed: 5, mean: 3, std: 2)
            let dy = TestTensors.normal(Shape(n, 3, 2, 2), seed: 6)
            func close(_ a: [Float], _ b: [Float], _ what: String) {
                for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 2e-6 + 1e-6 * abs(v), "K=\(devices) N=\(n) \(what)") }
            }
            close(try sync.forward(x, mode: .train).array, try full.forward(x, mode: .train).array, "y")
            sync.zeroGradients(); full.zeroGradients()
            close(sync.backward(dy).array, full.backward(dy).array, "dx")
            close(sync.weight.gradient.array, full.weight.gradient.array, "dweight")
            close(sync.bias.gradient.array, full.bias.gradient.array, "dbias")
            let s = sync.snapshotRunningStatistics(), f = full.snapshotRunningStatistics()
            close(s.mean + s.variance, f.mean + f.variance, "running statistics")
            XCTAssertEqual(s.batchesTracked, 1)
            XCTAssertEqual(sync.rankRunningStatistics.count, 1)
        }
    }

    func testFiniteDifferences() throws {
        for policy in DataParallelBatchNorm.Policy.allCases {
            let layer = DataParallelBatchNorm(2, devices: 3, policy: policy)
            TestTensors.randomizeParameters(of: layer, seed: 7, 0.5, 1.5)
            try GradientCheck.check(layer, input: TestTensors.normal(Shape(6, 2, 2, 1), seed: 8, mean: 0.5), mode: .train)
                .assertPasses()
            try GradientCheck.check(layer, input: TestTensors.normal(Shape(6, 2), seed: 9, mean: -0.5), mode: .train)
                .assertPasses()
        }
    }

    /// A batch that K does not divide is cut as `torch.chunk` cuts it (ceil(N / K), the last smaller);
    /// recalibration's passes (`ghostBatches: false`) take the whole batch; clones are real copies;
    /// restoring reaches every rank.
    func testChunkingRecalibrationCloneAndRestore() throws {
        let layer = DataParallelBatchNorm(1, devices: 4, policy: .reduce)
        _ = try layer.forward(Tensor(Shape(6, 1), [1, 3, 10, 20, 5, 7]), mode: .train)  // shards (1,3) (10,20) (5,7)
        assertRanks(layer, [(0.2, 1.1), (1.5, 5.9), (0.6, 1.1), (0, 1)], batches: 1)
        let copy = layer.clone()
        layer.restoreRunningStatistics(RunningStatistics(mean: [7], variance: [3], batchesTracked: 9))
        assertRanks(layer, Array(repeating: (7, 3), count: 4), batches: 9)
        assertRanks(copy, [(0.2, 1.1), (1.5, 5.9), (0.6, 1.1), (0, 1)], batches: 1)
        let whole = DataParallelBatchNorm(1, devices: 2, policy: .rank0)
        _ = try whole.forward(step1, mode: Mode(normalization: .train, dropout: .train, ghostBatches: false))
        let s = whole.snapshotRunningStatistics()
        XCTAssertEqual(s.mean[0], 0.85, accuracy: 1e-5, "the whole batch: mean 8.5")
        XCTAssertEqual(s.variance[0], 0.9 + 0.1 * 221 / 3, accuracy: 1e-5)
    }
}
