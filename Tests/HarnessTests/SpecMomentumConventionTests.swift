import Datasets
@testable import Experiment
import NN
@testable import SpecFormat
import TensorCore
import XCTest

/// `momentum_convention keras` (pytorch/examples#289): the value is Keras's (weight of the OLD statistics)
/// and becomes PyTorch's `1 - momentum` when the cell is built; the tables keep the value as written.
final class SpecMomentumConventionTests: XCTestCase {
    func testKerasMomentumConvertsToOneMinusItExactly() throws {
        // 1 - m on the written decimal, rounded once: the very Float the PyTorch value parses to.
        for (keras, pytorch) in [("0.99", "0.01"), ("0.9", "0.1"), ("0.999", "0.001"), ("0.5", "0.5"), ("0.1", "0.9")] {
            let cell = try XCTUnwrap(parseSpec("momentum_convention keras\nmomentum \(keras)").cells().first)
            XCTAssertEqual(cell.momentum, .exponential(Float(keras)!), "the value as written")
            XCTAssertEqual(cell.momentumUsed, .exponential(Float(pytorch)!), "keras \(keras) is pytorch \(pytorch)")
            XCTAssertEqual(cell.canonicalValue(of: "momentum"), keras)
            XCTAssertEqual(cell.canonicalValue(of: "momentum_convention"), "keras")
            XCTAssertEqual(Cell(cell, index: 0).model.momentum, .exponential(Float(pytorch)!), "the model is built with it")
        }
        // 1 - Float(0.99) in Float is another number: the conversion must not be done that way.
        XCTAssertNotEqual(1 - Float(0.99), Float(0.01))
        let pytorch = try XCTUnwrap(parseSpec("momentum 0.01\nsweep momentum_convention pytorch").cells().first)
        XCTAssertEqual(pytorch.momentumUsed, .exponential(0.01), "PyTorch's convention is used as written")
        XCTAssertEqual(ExperimentConfig().momentumUsed, .exponential(0.1))
        XCTAssertEqual(MomentumConvention.keras.pytorchMomentum(.cumulative), .cumulative)
    }

    func testSweptConventionShowsTheValueAsWrittenAndTheConvention() throws {
        let cells = try parseSpec("momentum 0.99\nsweep momentum_convention pytorch keras").cells()
        XCTAssertEqual(cells.map(\.momentumUsed), [.exponential(0.99), .exponential(0.01)])
        for cell in cells {
            let columns = Dictionary(uniqueKeysWithValues: cell.settingColumns.map { ($0[0], $0[1]) })
            XCTAssertEqual(columns["momentum"], "0.99")
        }
        XCTAssertEqual(cells.map { Dictionary(uniqueKeysWithValues: $0.settingColumns.map { ($0[0], $0[1]) })["momentum_convention"] },
                       ["pytorch", "keras"])
    }

    func testWarningsFollowTheConvention() throws {
        XCTAssertEqual(try parseSpec("momentum_convention keras\nmomentum 0.99").warnings, [], "Keras's default")
        XCTAssertEqual(try parseSpec("momentum_convention keras\nmomentum 0.5").warnings, [], "0.5 is the same in both")
        XCTAssertEqual(try parseSpec("momentum_convention keras\nmomentum 0.1").warnings.map(\.description), [
            "t.spec:2:10: warning: momentum 0.1 with momentum_convention keras weights the OLD statistics by 0.1,"
                + " i.e. PyTorch's 0.9; a PyTorch value pasted? PyTorch's 0.1 is Keras's 0.9",
        ])
        // One written value, two conventions: only the cells that read it in PyTorch's convention warn.
        XCTAssertEqual(try parseSpec("momentum 0.99\nsweep momentum_convention pytorch keras").warnings.map(\.description), [
            "t.spec:1:10: warning: momentum 0.99 weights the NEW batch by 0.99 in PyTorch's convention;"
                + " Keras/TensorFlow's 0.99 means PyTorch's 0.01 (or set momentum_convention keras)",
        ])
        XCTAssertEqual(try parseSpec("momentum 0.1\nsweep momentum_convention keras pytorch").warnings.map(\.location),
                       [SourceLocation(line: 1, column: 10)])
    }

    func testKerasRefusesCumulativeAndOne() {
        assertSpecError("momentum_convention keras\nmomentum cumulative",
                        "t.spec:2:10: error: momentum cumulative is PyTorch's momentum=None, which Keras has no value"
                            + " for; momentum_convention keras needs a number in (0, 1)")
        assertSpecError("momentum 1\nmomentum_convention keras",
                        "t.spec:1:10: error: momentum 1 in Keras's convention keeps the initial running statistics"
                            + " forever (PyTorch's momentum 0); momentum_convention keras needs a number in (0, 1)")
        assertSpecError("norm group\ngroups 4\nmomentum_convention keras",
                        "t.spec:3:21: error: 'momentum_convention' is set but has no effect: no cell uses a norm whose"
                            + " running statistics follow momentum (batch, batchrenorm, cbn or evonorm_b0)")
    }

    /// Two whole trainings, Keras's 0.99 and PyTorch's 0.01: the same model, bit for bit (the running
    /// statistics, the parameters, the loss), and both differ from an unconverted 0.99.
    func testKerasCellTrainsBitIdenticallyToItsPyTorchTwin() throws {
        func trained(_ lines: String) throws -> TrainedModelCache.Entry {
            let config = try XCTUnwrap(parseSpec("model cnn channels=3\nbatch_size 4\nepochs 2\n" + lines).cells().first)
            var trainRNG = RandomGenerator(seed: 21), testRNG = RandomGenerator(seed: 22)
            let data = PreparedData(train: Shapes.generate(count: 30, size: 12, rng: &trainRNG),
                                    test: Shapes.generate(count: 12, size: 12, rng: &testRNG))
            return try CellRunner.trainModel(cell: Cell(config, index: 0), data: data, onEpoch: nil)
        }
        let keras = try trained("momentum_convention keras\nmomentum 0.99")
        let pytorch = try trained("momentum 0.01")
        let pasted = try trained("momentum 0.99")
        XCTAssertEqual(runningStatistics(keras.model), runningStatistics(pytorch.model))
        XCTAssertEqual(keras.model.stateDict().serialized(), pytorch.model.stateDict().serialized(), "whole state")
        XCTAssertEqual(keras.outcome.finalLoss, pytorch.outcome.finalLoss)
        XCTAssertEqual(runningStatistics(keras.model).first?.batchesTracked, 14, "2 epochs of 7 batches")
        XCTAssertNotEqual(runningStatistics(keras.model), runningStatistics(pasted.model), "the pasted value is another model")
    }
}
