import XCTest
import NN
import TensorCore

/// SGD and Adam/AdamW against their documented update rules (torch.optim's docs), run in
/// Double on a 3-value parameter for 3 steps. The gradient depends on the parameter
/// (`g = a * p + b`, a quadratic loss) so that every step sees a new gradient, and is
/// computed from the Float parameter for the layer and from the Double one for the reference.
/// Tolerance 1e-5: about thirty Float operations per value, each rounding at 6e-8 relative,
/// on values of size <= 3.
final class OptimizerTests: XCTestCase {
    private let start: [Double] = [0.5, -1.25, 2]
    private let slope: [Double] = [1.5, 0.5, -0.75]
    private let offset: [Double] = [-0.25, 0.75, 0.5]

    private func gradient(_ p: [Double]) -> [Double] { (0..<3).map { slope[$0] * p[$0] + offset[$0] } }

    /// Runs `optimizer` for 3 steps on `parameter` and compares with `reference`, which
    /// maps (parameter, gradient, 1-based step) to the new parameter.
    private func assertMatches(_ optimizer: Optimizer, _ parameter: Parameter, _ label: String,
                               reference: ([Double], [Double], Int) -> [Double],
                               file: StaticString = #filePath, line: UInt = #line) {
        var expected = start
        for step in 1...3 {
            let current = parameter.value.array.map(Double.init)
            let g = gradient(current)
            for i in 0..<3 { parameter.gradient[i] = Float(g[i]) }
            optimizer.step()
            expected = reference(expected, gradient(expected), step)
            for i in 0..<3 {
                XCTAssertEqual(Double(parameter.value[i]), expected[i], accuracy: 1e-5,
                               "\(label) step \(step) value \(i)", file: file, line: line)
            }
        }
        XCTAssertNotEqual(expected, start, "\(label): the parameter must move", file: file, line: line)
    }

    private func makeParameter() -> Parameter {
        Parameter(name: "p", value: Tensor(Shape(3), start.map(Float.init)))
    }

    func testSGDVariants() throws {
        // (lr, momentum, dampening, weight decay, nesterov)
        let cases: [(Double, Double, Double, Double, Bool)] = [
            (0.1, 0, 0, 0, false),
            (0.1, 0, 0, 0.05, false),
            (0.1, 0.9, 0, 0, false),
            (0.1, 0.9, 0.5, 0, false),
            (0.1, 0.9, 0, 0.05, true),
            (0.05, 0.8, 0.3, 0.01, false),
        ]
        for (lr, momentum, dampening, decay, nesterov) in cases {
            let p = makeParameter()
            let sgd = try SGD(parameters: [p], learningRate: Float(lr), momentum: Float(momentum),
                              dampening: Float(dampening), weightDecay: Float(decay), nesterov: nesterov)
            // torch.optim.SGD: g += wd * p; b = g (t = 1) or mu * b + (1 - tau) * g;
            // g = g + mu * b (nesterov) or b (momentum > 0); p -= lr * g.
            var buffer = [0.0, 0.0, 0.0]
            assertMatches(sgd, p, "SGD(lr \(lr), momentum \(momentum), dampening \(dampening), wd \(decay), nesterov \(nesterov))") {
                p, g, t in
                (0..<3).map { i in
                    var d = g[i] + decay * p[i]
                    if momentum != 0 {
                        buffer[i] = t == 1 ? d : momentum * buffer[i] + (1 - dampening) * d
                        d = nesterov ? d + momentum * buffer[i] : buffer[i]
                    }
                    return p[i] - lr * d
                }
            }
        }
    }

    func testAdamAndAdamW() throws {
        // (lr, beta1, beta2, eps, weight decay, decoupled)
        let cases: [(Double, Double, Double, Double, Double, Bool)] = [
            (0.1, 0.9, 0.999, 1e-8, 0, false),
            (0.05, 0.8, 0.99, 1e-3, 0.1, false),
            (0.1, 0.9, 0.999, 1e-8, 0.1, true),
        ]
        for (lr, beta1, beta2, eps, decay, decoupled) in cases {
            let p = makeParameter()
            let adam = try Adam(parameters: [p], learningRate: Float(lr), beta1: Float(beta1), beta2: Float(beta2),
                                eps: Float(eps), weightDecay: Float(decay), decoupledWeightDecay: decoupled)
            // Adam: g += wd * p.  AdamW: p *= 1 - lr * wd.  Then m = b1 m + (1 - b1) g,
            // v = b2 v + (1 - b2) g^2, p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
            var m = [0.0, 0.0, 0.0], v = [0.0, 0.0, 0.0]
            assertMatches(adam, p, "Adam(lr \(lr), betas \(beta1) \(beta2), eps \(eps), wd \(decay), decoupled \(decoupled))") {
                p, g, t in
                (0..<3).map { i in
                    var value = p[i], grad = g[i]
                    if decoupled { value *= 1 - lr * decay } else { grad += decay * value }
                    m[i] = beta1 * m[i] + (1 - beta1) * grad
                    v[i] = beta2 * v[i] + (1 - beta2) * grad * grad
                    let mHat = m[i] / (1 - pow(beta1, Double(t))), vHat = v[i] / (1 - pow(beta2, Double(t)))
                    return value - lr * mHat / (vHat.squareRoot() + eps)
                }
            }
            XCTAssertEqual(adam.stepCount, 3)
        }
    }

    func testOptimizersRefuseBadSettings() {
        let p = makeParameter()
        XCTAssertThrowsError(try SGD(parameters: [p], learningRate: -0.1))
        XCTAssertThrowsError(try SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true))
        XCTAssertThrowsError(try SGD(parameters: [p], learningRate: 0.1, nesterov: true))
        XCTAssertThrowsError(try Adam(parameters: [p], beta1: 1))
        XCTAssertThrowsError(try Adam(parameters: [p], learningRate: -1))
    }
}
