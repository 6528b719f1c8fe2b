@testable import Experiment
import NN
import TensorCore
import XCTest

/// `class_blocked_eval`: the test split grouped by label, each batch from one class.
final class RunClassBlockedEvalTests: XCTestCase {
    /// Passes its input through and records the first feature of every sample, batch by batch.
    final class BatchRecorder: Layer {
        var batches: [[Float]] = []
        var name: String { "BatchRecorder" }
        func clone() -> BatchRecorder { BatchRecorder() }
        func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
            let width = x.shape.count / x.shape.batch
            batches.append((0..<x.shape.batch).map { x[$0 * width] })
            return x
        }
        func backward(_ dy: Tensor) -> Tensor { dy }
    }

    /// 7 samples, labels 1 0 1 1 0 1 0, feature 0 = the sample's index: at batch size 2 the batches
    /// are class 0's samples (1, 4), (6), then class 1's (0, 2), (3, 5), never mixing two classes.
    func testBatchesHoldOneClassEachInSplitOrder() throws {
        let labels: [Int32] = [1, 0, 1, 1, 0, 1, 0]
        // logits (feature 0, feature 1) = (index, label * 100): argmax is the label for every index < 100
        let data = try handDataset(labels.indices.map { [Float($0), Float(labels[$0]) * 100] }, labels: labels,
                                   classes: 2, channels: 2)
        let recorder = BatchRecorder()
        let accuracy = try Evaluation.classBlockedAccuracy(model: Sequential([Flatten(), recorder]), data: data,
                                                           batchSize: 2, mode: .eval)
        XCTAssertEqual(recorder.batches, [[1, 4], [6], [0, 2], [3, 5]])
        XCTAssertEqual(accuracy.samples, 7)
        // class 0's logits (1, 0), (4, 0), (6, 0) and class 1's (i, 100) all pick their label
        XCTAssertEqual(accuracy.correct, 7)
    }

    /// Batch statistics over one-class batches carry the label: a BatchNorm in train mode over
    /// features that are the same for both classes up to the class mean maps each class to the
    /// same normalized values, so mixed batches separate the classes and class-blocked ones do not.
    /// Class 0 has feature (1 + e, 0), class 1 (-1 + e, 0), e = -0.5 or +0.5 alternately; the logits
    /// are the normalized features (feature 1 normalizes to 0, so the sign of feature 0 decides).
    /// Mixed batches of 4 (two of each class) have mean 0: feature 0 keeps its sign, every sample right.
    /// Class-blocked batches: each class normalized by its own mean (+1 or -1), the sign is e's alone,
    /// so half of each class falls on the wrong side: 50%.
    func testBatchStatisticsOverOneClassBatchesLoseTheClassMean() throws {
        let labels: [Int32] = [0, 1, 0, 1, 0, 1, 0, 1]
        let e: [Float] = [-0.5, -0.5, 0.5, 0.5, 0.5, 0.5, -0.5, -0.5]
        let data = try handDataset(labels.indices.map { [(labels[$0] == 0 ? 1 : -1) + e[$0], 0] }, labels: labels,
                                   classes: 2, channels: 2)
        let model = Sequential([Flatten(), handBatchNorm(mean: [0, 0], variance: [1, 1])])
        let mode = Mode(normalization: .train, dropout: .eval)
        XCTAssertEqual(try Evaluation.accuracy(model: model.clone(), data: data, batchSize: 4, mode: mode).correct.percent, 100)
        XCTAssertEqual(try Evaluation.classBlockedAccuracy(model: model.clone(), data: data, batchSize: 4, mode: mode).percent, 50)
    }
}
