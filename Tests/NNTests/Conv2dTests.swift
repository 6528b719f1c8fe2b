import XCTest
@testable import NN
import TensorCore

/// Conv2d's forward against ``ReferenceConvolution``, and its im2col against its adjoint.
/// Inputs have `H != W`; the configurations cover kernels 1/3/5, strides 1/2/3, padding
/// 0 to 3 (including windows that lie entirely in the padding) and kernels wider than the image.
final class Conv2dTests: XCTestCase {
    /// (in, out, kernel, stride, padding, bias, H, W)
    private let configurations: [(Int, Int, Int, Int, Int, Bool, Int, Int)] = [
        (2, 3, 1, 1, 0, true, 5, 7),
        (2, 3, 1, 1, 2, true, 4, 3),
        (2, 3, 3, 1, 0, false, 5, 7),
        (2, 3, 3, 1, 1, true, 5, 7),
        (3, 2, 3, 2, 1, true, 6, 5),
        (1, 2, 3, 1, 3, true, 3, 4),
        (2, 2, 5, 1, 2, false, 5, 7),
        (2, 2, 5, 2, 2, true, 7, 6),
        (1, 3, 5, 3, 1, true, 8, 9),
        (2, 2, 5, 1, 2, true, 3, 2),
    ]

    func testForwardMatchesTheDirectConvolution() throws {
        for (index, (c, o, k, s, p, bias, h, w)) in configurations.enumerated() {
            var rng = RandomGenerator(seed: UInt64(index))
            let layer = Conv2d(c, o, kernelSize: k, stride: s, padding: p, bias: bias, rng: &rng)
            let x = TestTensors.normal(Shape(2, c, h, w), seed: 100 + UInt64(index))
            let y = try layer.forward(x, mode: .train)
            let reference = ReferenceConvolution.forward(x: x, weight: layer.weight.value, bias: layer.bias?.value,
                                                         stride: s, padding: p)
            XCTAssertEqual(y.shape, reference.shape, "configuration \(index)")
            guard y.shape == reference.shape else { continue }
            // Float summation of C*K*K + 1 terms errs by at most (terms) * u * sum |terms|
            // (u = 6e-8); allowed: twice that bound.
            let terms = Double(c * k * k + 1)
            for i in 0..<y.count {
                XCTAssertEqual(Double(y[i]), reference.values[i], accuracy: 2 * terms * 6e-8 * reference.magnitudes[i],
                               "configuration \(index) output \(i)")
            }
        }
    }

    func testIm2colBackwardIsTheAdjointOfForward() {
        // <A x, y> = <x, A^T y> for random x and y. A only copies values, so both sides are
        // sums of the same products; the backward accumulates up to K*K values per input in
        // Float, so the two differ by at most ~K*K * 6e-8 * sum |x_i| |(A^T y)_i|: allowed 1e-6 * sum.
        for (index, (c, _, k, s, p, _, h, w)) in configurations.enumerated() {
            let oh = Im2col.outputSize(h, kernel: k, stride: s, padding: p)
            let ow = Im2col.outputSize(w, kernel: k, stride: s, padding: p)
            let x = TestTensors.normal(Shape(1, c, h, w), seed: 200 + UInt64(index))
            let y = TestTensors.normal(Shape(c * k * k, oh * ow), seed: 300 + UInt64(index))
            let cols = Tensor(y.shape)
            cols.fill(.nan)  // forward must write every entry, padding included
            Im2col.forward(x.data, channels: c, height: h, width: w, kernel: k, stride: s, padding: p, cols: cols.data)
            let dx = Tensor(x.shape)
            dx.fill(.nan)  // backward overwrites, it does not accumulate into old values
            Im2col.backward(y.data, channels: c, height: h, width: w, kernel: k, stride: s, padding: p,
                            inputGradient: dx.data)
            var lhs = 0.0, rhs = 0.0, scale = 0.0
            for i in 0..<y.count { lhs += Double(cols[i]) * Double(y[i]); scale += abs(Double(cols[i]) * Double(y[i])) }
            for i in 0..<x.count { rhs += Double(x[i]) * Double(dx[i]) }
            XCTAssertEqual(lhs, rhs, accuracy: 1e-6 * scale + 1e-12, "configuration \(index)")
            XCTAssertFalse(lhs.isNaN || rhs.isNaN, "configuration \(index)")
        }
    }
}
