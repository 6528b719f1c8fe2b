import XCTest
import NN
import TensorCore

/// The cross-entropy gradient, and a whole CNN's backward through the loss, against
/// finite differences (``GradientCheck``, tolerances stated there).
final class LossGradientTests: XCTestCase {
    private let labels: [Int32] = [2, 0, 3, 1, 2]

    func testCrossEntropyGradient() {
        let logits = TestTensors.normal(Shape(5, 4), seed: 1, std: 2)
        let head = SoftmaxCrossEntropy()
        let loss: () -> Double = {
            Double(self.labels.withUnsafeBufferPointer { head.forward(logits: logits, labels: $0).loss })
        }
        _ = loss()
        let analytic = head.gradient.array.map(Double.init)
        let numeric = GradientCheck.numericGradient(of: logits, loss: loss)
        GradientCheck.Report(comparisons: [GradientCheck.compare("dCE/dlogits", analytic: analytic, numeric: numeric)])
            .assertPasses()
    }

    func testCrossEntropyValueAndStability() {
        // Loss against the formula in Double: the layer sums Float terms of size ~3, so
        // its error is a few ulp of 3 (~1e-6); tolerance 1e-5.
        let logits = TestTensors.normal(Shape(5, 4), seed: 2, std: 2)
        let (loss, _) = labels.withUnsafeBufferPointer { SoftmaxCrossEntropy().forward(logits: logits, labels: $0) }
        var expected = 0.0
        for row in 0..<5 {
            let z = (0..<4).map { Double(logits[row * 4 + $0]) }
            expected += log(z.map { exp($0) }.reduce(0, +)) - z[Int(labels[row])]
        }
        XCTAssertEqual(Double(loss), expected / 5, accuracy: 1e-5)

        // Logits of 1000 overflow exp() without the max shift; the gradient rows still sum to 0.
        let large = Tensor(Shape(1, 3), [1000, 999, 0])
        let head = SoftmaxCrossEntropy()
        let (largeLoss, correct) = [Int32(1)].withUnsafeBufferPointer { head.forward(logits: large, labels: $0) }
        // logsumexp(z) - z[1] = 1 + log(1 + e^-1 + e^-1000) = log(1 + e). The layer adds
        // log-sum to max = 1000 in Float, whose ulp there is 6e-5: tolerance 1e-4.
        XCTAssertEqual(Double(largeLoss), log(1 + exp(1.0)), accuracy: 1e-4)
        XCTAssertEqual(correct, 0)
        XCTAssertEqual(head.gradient.array.reduce(0, +), 0, accuracy: 1e-6)
    }

    func testSequentialCNNEndToEndThroughTheLoss() throws {
        // conv-BN-ReLU-maxpool-conv-BN-ReLU-avgpool-flatten-linear in train mode, differenced
        // with its ReLU masks and max-pool choices frozen at the input (see FrozenKinks).
        var rng = RandomGenerator(seed: 3)
        let model = Sequential([
            Conv2d(1, 3, kernelSize: 3, padding: 1, rng: &rng),
            BatchNorm(3),
            ReLU(),
            MaxPool2d(kernelSize: 2),
            Conv2d(3, 4, kernelSize: 3, padding: 1, bias: false, rng: &rng),
            BatchNorm(4),
            ReLU(),
            AvgPool2d(kernelSize: 2),
            Flatten(),
            Linear(16, 4, rng: &rng),
        ])
        let x = TestTensors.normal(Shape(5, 1, 8, 8), seed: 4)
        let frozen = try FrozenKinks.freeze(model, at: x, mode: .train)
        // At the point itself the frozen network computes the same logits (x * 1 = x, x * 0 = 0).
        XCTAssertEqual(try frozen.clone().forward(x, mode: .train).array, try model.clone().forward(x, mode: .train).array)

        let report = try GradientCheck.check(model, input: x, mode: .train,
                                             objective: GradientCheck.crossEntropy(labels: labels), reference: frozen)
        XCTAssertEqual(report.comparisons.count, 1 + model.parameters.count)
        report.assertPasses()
    }

    func testFrozenNetworkCatchesAWrongReLUMask() throws {
        // The frozen reference must not simply copy the layers' own choices: a ReLU mask with
        // one unit flipped (a wrong subgradient pattern) must make the check fail.
        var rng = RandomGenerator(seed: 5)
        let model = Sequential([Linear(4, 6, rng: &rng), ReLU(), Linear(6, 4, rng: &rng)])
        let x = TestTensors.normal(Shape(5, 4), seed: 6)
        let frozen = try FrozenKinks.freeze(model, at: x, mode: .train)
        var mask = (frozen.layers[1] as! FrozenMask).mask
        let flipped = mask.firstIndex(of: 1)!
        mask[flipped] = 0
        let wrong = Sequential([frozen.layers[0], FrozenMask(mask), frozen.layers[2]])
        try GradientCheck.check(model, input: x, mode: .train, objective: GradientCheck.crossEntropy(labels: labels),
                                reference: frozen).assertPasses()
        let report = try GradientCheck.check(model, input: x, mode: .train,
                                             objective: GradientCheck.crossEntropy(labels: labels), reference: wrong)
        XCTAssertFalse(report.failures.isEmpty, "a flipped mask unit must change some gradient beyond tolerance")
    }
}
