@testable import NN
import TensorCore
import XCTest

/// Lazy zeroing (``Parameter/zeroGradient()``) is invisible: readers see zeros, the first
/// accumulation after it overwrites, later ones add.
final class ParameterGradientTests: XCTestCase {
    func testPendingZeroReadsAsZeroAndBetaIsConsumed() {
        let p = Parameter(name: "w", value: Tensor(Shape(3), [1, 2, 3]))
        p.gradient.data[1] = 5
        p.zeroGradient()
        XCTAssertEqual(p.gradient.array, [0, 0, 0])
        p.gradient.data[0] = 4
        XCTAssertEqual(p.takeGradientAccumulationBeta().beta, 1, "no zero pending: add")
        p.zeroGradient()
        let taken = p.takeGradientAccumulationBeta()
        XCTAssertEqual(taken.beta, 0, "zero pending: overwrite")
        XCTAssertEqual(p.takeGradientAccumulationBeta().beta, 1, "consumed")
        p.zeroGradient()
        XCTAssertEqual(p.copy().gradient.array, [0, 0, 0], "a copy sees the pending zero")
    }

    /// Linear: stale gradients, then zero_grad and two backward passes = twice one fresh pass.
    func testLinearAccumulatesOnTopOfALazyZero() throws {
        var rng = RandomGenerator(seed: 3)
        for batch in [1, 2, 5, 9] {
            let layer = Linear(6, 4, rng: &rng)
            let x = Tensor(Shape(batch, 6), (0..<(batch * 6)).map { _ in rng.uniform(-1, 1) })
            let dy = Tensor(Shape(batch, 4), (0..<(batch * 4)).map { _ in rng.uniform(-1, 1) })
            _ = try layer.forward(x, mode: .train)
            _ = layer.backward(dy)
            let once = layer.weight.gradient.array, onceBias = layer.bias!.gradient.array
            layer.weight.gradient.fill(100)  // stale values that zero_grad must hide
            layer.zeroGradients()
            _ = layer.backward(dy)
            _ = layer.backward(dy)
            // the second pass adds term by term onto the first: 2g up to a few float roundings
            for (got, g) in zip(layer.weight.gradient.array + layer.bias!.gradient.array, once + onceBias) {
                XCTAssertEqual(got, 2 * g, accuracy: 1e-5 * (abs(g) + 1), "batch \(batch)")
            }
        }
    }
}
