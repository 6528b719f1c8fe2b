import Foundation
import NN
import TensorCore
import XCTest

/// PyTorch state_dict keys, shapes and loading, against `state_dict_cnn.safetensors`: the
/// `state_dict()` of scripts/make_safetensors_fixture.py's nn.Sequential after 3 SGD steps.
final class StateDictTests: XCTestCase {
    /// bnlab's twin of the fixture's model: Conv2d(1, 2, 3, padding=1), BatchNorm2d(2), ReLU, MaxPool2d(2),
    /// Flatten, Dropout(0.5), Linear(8, 4), BatchNorm1d(4), ReLU, Linear(4, 3).
    private func model(seed: UInt64 = 1) throws -> Sequential {
        var rng = RandomGenerator(seed: seed)
        return Sequential([
            Conv2d(1, 2, kernelSize: 3, padding: 1, rng: &rng), BatchNorm(2), ReLU(), MaxPool2d(kernelSize: 2), Flatten(),
            try Dropout(p: 0.5, rng: rng.derived("dropout")), Linear(8, 4, rng: &rng), BatchNorm(4), ReLU(),
            Linear(4, 3, rng: &rng),
        ])
    }

    private func pythonStateDict() throws -> SafeTensorsFile {
        try SafeTensorsFile(contentsOf: try safetensorsFixturePath("state_dict_cnn"))
    }

    /// `list(model.state_dict())` in PyTorch, in its order.
    static let pytorchKeys = [
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
        "6.weight", "6.bias", "7.weight", "7.bias", "7.running_mean", "7.running_var", "7.num_batches_tracked",
        "9.weight", "9.bias",
    ]

    func testKeysShapesAndTypesAreThoseOfPyTorchsStateDict() throws {
        let entries = try model().stateDictEntries
        XCTAssertEqual(entries.map(\.key), Self.pytorchKeys)
        let python = try pythonStateDict()
        for entry in entries {
            XCTAssertEqual(entry.shape, python.tensors[entry.key]?.shape, entry.key)
            XCTAssertEqual(entry.dtype, python.tensors[entry.key]?.dtype, entry.key)
        }
        XCTAssertEqual(entries.filter { $0.kind == .buffer }.map(\.key),
                       ["1.running_mean", "1.running_var", "1.num_batches_tracked",
                        "7.running_mean", "7.running_var", "7.num_batches_tracked"])
    }

    func testPyTorchsStateDictLoadsAndGivesPyTorchsEvalOutput() throws {
        let m = try model()
        let report = try m.load(stateDict: try pythonStateDict())
        XCTAssertEqual(report, StateDictLoadReport(missingKeys: [], unexpectedKeys: []))
        XCTAssertEqual(m.runningStatisticsLayers.map(\.numBatchesTracked), [3, 3])
        let io = try SafeTensorsFile(contentsOf: try safetensorsFixturePath("state_dict_cnn_io"))
        let x = Tensor(Shape(4, 1, 4, 4), io.tensors["x"]!.floats!)
        let logits = try m.forward(x, mode: .eval).array
        let expected = io.tensors["eval_logits"]!.floats!
        // One eval forward of a few layers from PyTorch's weights: GoldenTolerance.singleLayer's bound
        // (another summation order agrees to about 1e-5 relative, with a 1e-6 floor near zero).
        for (i, (a, e)) in zip(logits, expected).enumerated() {
            XCTAssertLessThanOrEqual(abs(a - e), 1e-6 + 1e-5 * abs(e), "logit \(i): bnlab \(a), PyTorch \(e)")
        }
    }

    func testStateDictOfTheLoadedModelIsPyTorchsFileByteForByte() throws {
        let path = try safetensorsFixturePath("state_dict_cnn")
        let m = try model()
        try m.load(stateDict: try SafeTensorsFile(contentsOf: path))
        XCTAssertEqual(m.stateDict().serialized(), [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    func testRoundTripCopiesEveryParameterAndBuffer() throws {
        let source = try model(seed: 1), target = try model(seed: 2)
        var rng = RandomGenerator(seed: 9)
        let x = Tensor(Shape(5, 1, 4, 4), (0..<80).map { _ in rng.normal() })
        _ = try source.forward(x, mode: .train)  // running statistics and counters move off their initial values
        _ = try source.forward(x, mode: .train)
        let bytes = source.stateDict(metadata: ["cell": "test"]).serialized()
        let file = try SafeTensorsFile(parsing: bytes, file: "round-trip")
        XCTAssertEqual(file.metadata, ["cell": "test"])
        try target.load(stateDict: file)
        XCTAssertEqual(target.stateDict(), source.stateDict())
        XCTAssertEqual(target.runningStatisticsLayers.map(\.numBatchesTracked), [2, 2])
        XCTAssertEqual(try target.forward(x, mode: .eval).array, try source.forward(x, mode: .eval).array)
    }

    func testMissingRunningStatisticsAreNamedAndNothingIsLoaded() throws {
        var file = try pythonStateDict()
        for key in ["1.running_mean", "1.running_var", "7.running_var"] { file.tensors[key] = nil }
        let m = try model()
        let before = m.stateDict()
        XCTAssertThrowsError(try m.load(stateDict: file)) { error in
            XCTAssertEqual("\(error)", """
                Error(s) in loading state_dict for Sequential:
                \tMissing key(s) in state_dict: "1.running_mean", "1.running_var", "7.running_var".
                """)
        }
        XCTAssertEqual(m.stateDict(), before, "a refused load changes nothing")

        let report = try m.load(stateDict: file, strict: false)
        XCTAssertEqual(report.missingKeys, ["1.running_mean", "1.running_var", "7.running_var"])
        XCTAssertEqual(report.unexpectedKeys, [])
        let loaded = m.stateDict()
        XCTAssertEqual(loaded.tensors["0.weight"], file.tensors["0.weight"], "what matches is loaded")
        XCTAssertEqual(loaded.tensors["7.running_mean"], file.tensors["7.running_mean"])
        XCTAssertEqual(loaded.tensors["1.running_mean"], before.tensors["1.running_mean"], "a missing key keeps its value")
    }

    func testUnexpectedKeysAndSizeMismatchesAreListedAsPyTorchDoes() throws {
        var file = try pythonStateDict()
        file.tensors["extra"] = SafeTensor([1] as [Float], shape: [1])
        file.tensors["1.foo"] = SafeTensor([1] as [Float], shape: [1])
        file.tensors["9.bias"] = SafeTensor([1, 2] as [Float], shape: [2])
        file.tensors["0.bias"] = SafeTensor([1, 2] as [Int32], shape: [2])
        file.tensors["1.weight"] = nil
        XCTAssertThrowsError(try model().load(stateDict: file)) { error in
            XCTAssertEqual("\(error)", """
                Error(s) in loading state_dict for Sequential:
                \tMissing key(s) in state_dict: "1.weight".
                \tUnexpected key(s) in state_dict: "1.foo", "extra".
                \tdtype mismatch for 0.bias: the checkpoint holds I32, the model F32 (bnlab does not convert)
                \tsize mismatch for 9.bias: copying a param with shape [2] from checkpoint, the shape in current model is [3].
                """)
        }
        // Not strict: the keys are reported, a size mismatch still throws (as in PyTorch).
        file.tensors["9.bias"] = nil
        file.tensors["0.bias"] = nil
        let report = try model().load(stateDict: file, strict: false)
        XCTAssertEqual(report, StateDictLoadReport(missingKeys: ["0.bias", "1.weight", "9.bias"],
                                                   unexpectedKeys: ["1.foo", "extra"]))
    }

    /// PyTorch keeps the current num_batches_tracked when the key is missing from a state dict without
    /// version metadata (every `load_file` result): no error, even with strict=True.
    func testAMissingNumBatchesTrackedKeepsItsValueWithoutComplaint() throws {
        var file = try pythonStateDict()
        file.tensors["1.num_batches_tracked"] = nil
        let m = try model()
        var statistics = m.runningStatisticsLayers[0].snapshotRunningStatistics()
        statistics.batchesTracked = 11
        m.runningStatisticsLayers[0].restoreRunningStatistics(statistics)
        XCTAssertEqual(try m.load(stateDict: file), StateDictLoadReport(missingKeys: [], unexpectedKeys: []))
        XCTAssertEqual(m.runningStatisticsLayers.map(\.numBatchesTracked), [11, 3])
    }

    func testLayerNormShapeIsTheNormalizedShapeAndUntrackedBatchNormHasNoBuffers() throws {
        var rng = RandomGenerator(seed: 1)
        let m = Sequential([Conv2d(1, 2, kernelSize: 3, rng: &rng), LayerNorm(sampleShape: Shape(1, 2, 3, 3)),
                            Sequential([Flatten(), BatchNorm(18, trackRunningStats: false)])])
        XCTAssertEqual(m.stateDictEntries.map { "\($0.key) \($0.shape)" },
                       ["0.weight [2, 1, 3, 3]", "0.bias [2]", "1.weight [2, 3, 3]", "1.bias [2, 3, 3]",
                        "2.1.weight [18]", "2.1.bias [18]"])
    }
}
