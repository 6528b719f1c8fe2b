import XCTest
import NN
import TensorCore

/// What train and eval mode do, with numbers: BatchNorm's statistics (PyTorch's formulas,
/// recomputed here in Double), its batch-1 rules, Ghost BatchNorm, Dropout, and the
/// ownership of state (clones, snapshots).
/// Shape legend: `x (N, C)` or `(N, C, H, W)`, `n = N*H*W` values per channel.
final class ModeBehaviourTests: XCTestCase {
    /// Per-channel mean and BIASED variance of NCHW data in Double.
    private func channelMoments(_ x: Tensor, samples: Range<Int>? = nil) -> [(mean: Double, variance: Double)] {
        let channels = x.shape.channels, hw = x.shape.spatial
        let range = samples ?? 0..<x.shape.batch
        return (0..<channels).map { c in
            var values: [Double] = []
            for s in range { for i in 0..<hw { values.append(Double(x[(s * channels + c) * hw + i])) } }
            let mean = values.reduce(0, +) / Double(values.count)
            return (mean, values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count))
        }
    }

    private func batchNorm(_ c: Int, momentum: BNMomentum = .exponential(0.1), trackRunningStats: Bool = true,
                           ghostBatchSize: Int? = nil) -> BatchNorm {
        let layer = BatchNorm(c, momentum: momentum, trackRunningStats: trackRunningStats, ghostBatchSize: ghostBatchSize)
        TestTensors.randomizeParameters(of: layer, seed: 99, 0.5, 1.5)
        return layer
    }

    // MARK: - BatchNorm statistics

    func testEvalBatchNormUsesTheRunningStatistics() throws {
        let layer = batchNorm(3)
        let stats = RunningStatistics(mean: [0.5, -1, 2], variance: [0.25, 4, 1.5], batchesTracked: 7)
        layer.restoreRunningStatistics(stats)
        let x = TestTensors.normal(Shape(4, 3, 2, 2), seed: 1, std: 2)
        let y = try layer.forward(x, mode: .eval)
        // The layer computes x * scale + shift in Float with |terms| <= ~10: a few ulp, < 1e-5.
        for i in 0..<x.count {
            let c = (i / 4) % 3
            let expected = (Double(x[i]) - Double(stats.mean[c])) / (Double(stats.variance[c]) + 1e-5).squareRoot()
                * Double(layer.weight.value[c]) + Double(layer.bias.value[c])
            XCTAssertEqual(Double(y[i]), expected, accuracy: 1e-5, "element \(i)")
        }
        XCTAssertEqual(layer.snapshotRunningStatistics(), stats, "eval mode must not touch the running statistics")
    }

    func testTrainModeUpdatesRunningStatisticsWithPyTorchsFormula() throws {
        for momentum in [BNMomentum.exponential(0.1), .cumulative] {
            let layer = batchNorm(2, momentum: momentum)
            var expectedMean = [0.0, 0.0], expectedVar = [1.0, 1.0]
            for step in 1...3 {
                let x = TestTensors.normal(Shape(3, 2, 2, 2), seed: UInt64(10 + step), mean: Float(step), std: Float(step))
                _ = try layer.forward(x, mode: .train)
                // running = (1 - f) * running + f * batch, f = 0.1 or 1/t; the stored variance is
                // the unbiased one, n/(n-1) with n = N*H*W = 12.
                let f: Double
                switch momentum {
                case .exponential(let m): f = Double(m)
                case .cumulative: f = 1 / Double(step)
                }
                let n = 12.0
                for (c, moments) in channelMoments(x).enumerated() {
                    expectedMean[c] = (1 - f) * expectedMean[c] + f * moments.mean
                    expectedVar[c] = (1 - f) * expectedVar[c] + f * moments.variance * n / (n - 1)
                }
            }
            // Each Float update rounds at ~1e-7 relative; values are O(1..10): tolerance 1e-5.
            XCTAssertEqual(layer.numBatchesTracked, 3)
            for c in 0..<2 {
                XCTAssertEqual(Double(layer.runningMean[c]), expectedMean[c], accuracy: 1e-5, "\(momentum) mean \(c)")
                XCTAssertEqual(Double(layer.runningVar[c]), expectedVar[c], accuracy: 1e-5, "\(momentum) var \(c)")
            }
        }
    }

    func testBatchOfOneFeatureVectorThrowsPyTorchsError() {
        let expected = "Expected more than 1 value per channel when training"
        let layer = batchNorm(3)
        let before = layer.snapshotRunningStatistics()
        XCTAssertThrowsError(try layer.forward(TestTensors.normal(Shape(1, 3), seed: 2), mode: .train)) { error in
            let message = (error as? LayerError)?.message ?? ""
            XCTAssertTrue(message.contains(expected), "message: \(message)")
        }
        XCTAssertEqual(layer.snapshotRunningStatistics(), before, "a refused batch must not count")
        // A ghost chunk of one sample is refused the same way (5 = 2 + 2 + 1).
        let ghost = batchNorm(3, ghostBatchSize: 2)
        XCTAssertThrowsError(try ghost.forward(TestTensors.normal(Shape(5, 3), seed: 3), mode: .train)) { error in
            XCTAssertTrue((error as? LayerError)?.message.contains(expected) ?? false, "\(error)")
        }
        XCTAssertEqual(ghost.numBatchesTracked, 0)
        let renorm = BatchRenorm(3)
        XCTAssertThrowsError(try renorm.forward(TestTensors.normal(Shape(1, 3), seed: 4), mode: .train)) { error in
            XCTAssertTrue((error as? LayerError)?.message.contains(expected) ?? false, "\(error)")
        }
        // Eval mode uses the running statistics: batch 1 is fine.
        XCTAssertNoThrow(try layer.forward(TestTensors.normal(Shape(1, 3), seed: 5), mode: .eval))
    }

    func testBatchOfOneImageTrainsAndNormalizesEachChannel() throws {
        let layer = BatchNorm(2)  // weight 1, bias 0
        let x = TestTensors.normal(Shape(1, 2, 3, 3), seed: 6, mean: 3, std: 2)
        let y = try layer.forward(x, mode: .train)
        XCTAssertEqual(layer.numBatchesTracked, 1)
        for (c, moments) in channelMoments(y).enumerated() {
            // mean 0 up to Float rounding of values ~1 (1e-6); biased variance
            // var / (var + eps) = 1 - eps/var with var ~ 4: 1 within 1e-5, tolerance 1e-4.
            XCTAssertEqual(moments.mean, 0, accuracy: 1e-6, "channel \(c)")
            XCTAssertEqual(moments.variance, 1, accuracy: 1e-4, "channel \(c)")
        }
    }

    func testUntrackedBatchNormUsesBatchStatisticsInEvalAndNeverUpdates() throws {
        let layer = BatchNorm(2, trackRunningStats: false)
        let x = TestTensors.normal(Shape(6, 2), seed: 7, mean: 5, std: 3)
        let train = try layer.forward(x, mode: .train).array
        let eval = try layer.forward(x, mode: .eval).array
        XCTAssertEqual(eval, train, "without running statistics eval mode is train mode")
        for moments in channelMoments(try layer.forward(x, mode: .eval)) {
            XCTAssertEqual(moments.mean, 0, accuracy: 1e-6)
            XCTAssertEqual(moments.variance, 1, accuracy: 1e-4)  // 1 - eps/var, var ~ 9
        }
        XCTAssertEqual(layer.snapshotRunningStatistics(), RunningStatistics(mean: [0, 0], variance: [1, 1], batchesTracked: 0))
    }

    func testEvalNormalizationWithTrainDropout() throws {
        let norm = batchNorm(3)
        norm.restoreRunningStatistics(RunningStatistics(mean: [1, -1, 0.5], variance: [2, 0.5, 1], batchesTracked: 4))
        let reference = norm.clone()
        let model = Sequential([norm, try Dropout(p: 0.5, rng: RandomGenerator(seed: 8))])
        let x = TestTensors.normal(Shape(8, 3), seed: 9)
        let y = try model.forward(x, mode: Mode(normalization: .eval, dropout: .train)).array
        let normalized = try reference.forward(x, mode: .eval).array
        // Kept units are the running-statistics output times exactly 2 = 1/(1 - 0.5).
        var kept = 0
        for i in 0..<y.count where y[i] != 0 {
            kept += 1
            XCTAssertEqual(y[i], normalized[i] * 2, "element \(i)")
        }
        XCTAssertTrue(kept > 0 && kept < y.count, "dropout must be active: kept \(kept) of \(y.count)")
        XCTAssertEqual(norm.snapshotRunningStatistics(), reference.snapshotRunningStatistics())
    }

    func testEmptyBatchPassesThroughBatchNorm() throws {
        // N = 0 (PyTorch returns an empty output): no statistics, no update, and backward
        // returns an empty gradient (it used to divide by a chunk size of 0 and trap).
        for ghost in [nil, 2] as [Int?] {
            let layer = batchNorm(3, ghostBatchSize: ghost)
            XCTAssertEqual(try layer.forward(Tensor(Shape(0, 3)), mode: .train).shape, Shape(0, 3))
            XCTAssertEqual(layer.backward(Tensor(Shape(0, 3))).shape, Shape(0, 3))
            XCTAssertEqual(layer.snapshotRunningStatistics(),
                           RunningStatistics(mean: [0, 0, 0], variance: [1, 1, 1], batchesTracked: 0))
        }
    }

    // MARK: - Ghost BatchNorm

    func testGhostBatchNormIsASeparateBatchNormPerChunk() throws {
        for momentum in [BNMomentum.exponential(0.1), .cumulative] {
            let ghost = batchNorm(2, momentum: momentum, ghostBatchSize: 2)
            let separate = batchNorm(2, momentum: momentum)  // same parameters (same seed)
            let x = TestTensors.normal(Shape(5, 2, 2, 2), seed: 10, mean: 1)
            let y = try ghost.forward(x, mode: .train).array
            XCTAssertEqual(ghost.numBatchesTracked, 3, "one running update per chunk")
            let perSample = 8
            for (start, end) in [(0, 2), (2, 4), (4, 5)] {
                let chunk = Tensor(Shape(end - start, 2, 2, 2), Array(x.array[(start * perSample)..<(end * perSample)]))
                // The same arithmetic on the same values in the same order: bit-identical.
                XCTAssertEqual(Array(y[(start * perSample)..<(end * perSample)]),
                               try separate.forward(chunk, mode: .train).array, "chunk \(start)..<\(end)")
            }
            XCTAssertEqual(ghost.snapshotRunningStatistics(), separate.snapshotRunningStatistics(), "\(momentum)")
        }
    }

    func testGhostBatchesOffNormalizesOverTheWholeBatch() throws {
        // Mode.ghostBatches false (recalibration): a ghost BatchNorm computes exactly what the
        // same layer without ghost batches does, and a train-mode pass updates once.
        let ghost = batchNorm(2, ghostBatchSize: 2)
        let whole = batchNorm(2)  // same parameters (same seed)
        let x = TestTensors.normal(Shape(5, 2, 2, 2), seed: 10, mean: 1)
        let dy = TestTensors.normal(x.shape, seed: 11)
        let mode = Mode(normalization: .train, dropout: .train, ghostBatches: false)
        XCTAssertEqual(try ghost.forward(x, mode: mode).array, try whole.forward(x, mode: .train).array)
        XCTAssertEqual(ghost.backward(dy).array, whole.backward(dy).array)
        XCTAssertEqual(ghost.snapshotRunningStatistics(), whole.snapshotRunningStatistics())
        XCTAssertEqual(ghost.numBatchesTracked, 1)
        XCTAssertEqual(ghost.lastBatchStatistics?.valuesPerChannel, 5 * 4)
    }

    // MARK: - Dropout

    func testDropoutEvalIsTheIdentity() throws {
        let layer = try Dropout(p: 0.5, rng: RandomGenerator(seed: 11))
        let x = TestTensors.normal(Shape(4, 5), seed: 12)
        XCTAssertEqual(try layer.forward(x, mode: .eval).array, x.array)
        XCTAssertEqual(layer.backward(x).array, x.array)
        XCTAssertEqual(layer.rng, RandomGenerator(seed: 11), "eval mode draws nothing")
    }

    func testDropoutTrainKeepsOneMinusPAndScalesExactly() throws {
        let p: Float = 0.3
        let layer = try Dropout(p: p, rng: RandomGenerator(seed: 13))
        let x = TestTensors.uniform(Shape(1000, 100), seed: 14, 0.5, 1.5)  // no zero inputs
        let y = try layer.forward(x, mode: .train).array
        let scale: Float = 1 / (1 - p)
        var kept = 0
        for i in 0..<y.count where y[i] != 0 {
            kept += 1
            XCTAssertEqual(y[i], x[i] * scale, "element \(i)")  // exactly x / (1 - p), in Float
        }
        // Binomial(1e5, 0.7): standard error sqrt(0.7 * 0.3 / 1e5) = 0.00145; allow 5 of them.
        XCTAssertEqual(Double(kept) / 1e5, 0.7, accuracy: 5 * 0.00145)
    }

    func testDropoutMasksFollowTheSeed() throws {
        let x = TestTensors.uniform(Shape(10, 10), seed: 15, 0.5, 1.5)
        let a = try Dropout(p: 0.5, rng: RandomGenerator(seed: 16))
        let b = try Dropout(p: 0.5, rng: RandomGenerator(seed: 16))
        let c = try Dropout(p: 0.5, rng: RandomGenerator(seed: 17))
        let clone = a.clone()
        let first = try a.forward(x, mode: .train).array
        XCTAssertEqual(try b.forward(x, mode: .train).array, first, "same seed, same mask")
        XCTAssertEqual(try clone.forward(x, mode: .train).array, first, "a clone continues the same stream")
        XCTAssertNotEqual(try c.forward(x, mode: .train).array, first, "another seed, another mask")
        XCTAssertNotEqual(try a.forward(x, mode: .train).array, first, "the stream advances between passes")
    }

    func testDropoutRefusesProbabilitiesOutsideZeroToOne() throws {
        for p: Float in [1, -0.1, 1.5] {
            XCTAssertThrowsError(try Dropout(p: p, rng: RandomGenerator(seed: 0))) { error in
                XCTAssertTrue((error as? LayerError)?.message.contains("\(p)") ?? false, "\(error)")
            }
        }
        let keepAll = try Dropout(p: 0, rng: RandomGenerator(seed: 0))
        let x = TestTensors.normal(Shape(3, 4), seed: 18)
        XCTAssertEqual(try keepAll.forward(x, mode: .train).array, x.array)
    }

    // MARK: - State ownership

    func testTrainingAndRecalibratingACloneLeavesTheOriginalBitIdentical() throws {
        var rng = RandomGenerator(seed: 19)
        let original = Sequential([
            Conv2d(1, 2, kernelSize: 3, padding: 1, rng: &rng), BatchNorm(2), ReLU(), Flatten(),
            try Dropout(p: 0.2, rng: rng.derived("dropout")), Linear(2 * 4 * 4, 3, rng: &rng),
        ])
        let x = TestTensors.normal(Shape(4, 1, 4, 4), seed: 20)
        _ = try original.forward(x, mode: .train)  // non-trivial running statistics first
        let parameters = original.parameters.map(\.value.array)
        let statistics = original.runningStatisticsLayers.map { $0.snapshotRunningStatistics() }
        let dropoutStream = original.dropoutLayers[0].rng
        let evalOutput = try original.forward(x, mode: .eval).array

        let copy = original.clone()
        let optimizer = try SGD(parameters: copy.parameters, learningRate: 0.1, momentum: 0.9)
        let labels: [Int32] = [0, 1, 2, 1]
        let loss = SoftmaxCrossEntropy()
        for _ in 0..<3 {
            optimizer.zeroGradients()
            let logits = try copy.forward(x, mode: .train)
            _ = labels.withUnsafeBufferPointer { loss.forward(logits: logits, labels: $0) }
            _ = copy.backward(loss.gradient)
            optimizer.step()
        }
        for layer in copy.runningStatisticsLayers { layer.resetRunningStatistics() }
        for _ in 0..<2 { _ = try copy.forward(x, mode: .train) }
        XCTAssertNotEqual(copy.parameters.map(\.value.array), parameters, "the clone must have trained")
        XCTAssertNotEqual(copy.runningStatisticsLayers.map { $0.snapshotRunningStatistics() }, statistics)

        XCTAssertEqual(original.parameters.map(\.value.array), parameters)
        XCTAssertEqual(original.runningStatisticsLayers.map { $0.snapshotRunningStatistics() }, statistics)
        XCTAssertEqual(original.dropoutLayers[0].rng, dropoutStream)
        XCTAssertEqual(try original.forward(x, mode: .eval).array, evalOutput)
    }

    /// A layer without parameters or settings is named after its type (``ParameterlessLayer``), and
    /// its clone is a new layer of that type computing the same function.
    func testParameterlessLayersAreNamedAfterTheirTypeAndCloneToNewLayers() throws {
        let layers: [any ParameterlessLayer] = [Flatten(), GlobalAvgPool2d(), ReLU()]
        XCTAssertEqual(layers.map(\.name), ["Flatten", "GlobalAvgPool2d", "ReLU"])
        let x = TestTensors.normal(Shape(2, 3, 2, 2), seed: 31)
        for layer in layers {
            let copy = layer.clone()
            XCTAssertFalse(copy === layer, layer.name)
            XCTAssertEqual(try copy.forward(x, mode: .train).array, try layer.forward(x, mode: .train).array, layer.name)
        }
    }

    func testSnapshotRestoreRoundTrip() throws {
        let layer = batchNorm(3)
        let batches = (0..<4).map { TestTensors.normal(Shape(4, 3), seed: 21 + UInt64($0), mean: Float($0)) }
        for x in batches.prefix(2) { _ = try layer.forward(x, mode: .train) }
        let snapshot = layer.snapshotRunningStatistics()
        let probe = TestTensors.normal(Shape(2, 3), seed: 30)
        let evalBefore = try layer.forward(probe, mode: .eval).array
        for x in batches.suffix(2) { _ = try layer.forward(x, mode: .train) }
        XCTAssertNotEqual(layer.snapshotRunningStatistics(), snapshot)
        layer.restoreRunningStatistics(snapshot)
        XCTAssertEqual(layer.snapshotRunningStatistics(), snapshot)
        XCTAssertEqual(layer.numBatchesTracked, 2)
        XCTAssertEqual(try layer.forward(probe, mode: .eval).array, evalBefore)
        // Into another layer with the same parameters: the same eval function.
        let other = batchNorm(3)
        other.restoreRunningStatistics(snapshot)
        XCTAssertEqual(try other.forward(probe, mode: .eval).array, evalBefore)
        // Reset is PyTorch's reset_running_stats().
        layer.resetRunningStatistics()
        XCTAssertEqual(layer.snapshotRunningStatistics(),
                       RunningStatistics(mean: [0, 0, 0], variance: [1, 1, 1], batchesTracked: 0))
    }

    func testGroupNormRefusesGroupsThatDoNotDivideTheChannels() {
        for (groups, channels) in [(3, 4), (0, 4), (8, 4)] {
            XCTAssertThrowsError(try GroupNorm(groups: groups, channels: channels)) { error in
                let message = (error as? LayerError)?.message ?? ""
                XCTAssertTrue(message.contains("(\(groups))") && message.contains("(\(channels))"), message)
            }
        }
        XCTAssertNoThrow(try GroupNorm(groups: 2, channels: 4))
    }
}
