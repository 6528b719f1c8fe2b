import XCTest
@testable import NN
@testable import TensorCore

/// Conv2d on 2 and 3 threads computes the bits of one thread (``ThreadCountCheck``): forward's chunks
/// in parallel, backward's columns, `dcols` and `col2im` in parallel beside the `dW`, `db` chain.
final class ParallelConvolutionTests: XCTestCase {
    /// (in, out, kernel, stride, padding, bias, centred, input gradient, column budget, N, H, W): one-sample
    /// chunks (the GEMM writes `y` directly), chunks of several samples with a smaller last one, the
    /// default budget, strides, centred weights, and a first layer without an input gradient.
    private let configurations: [(Int, Int, Int, Int, Int, Bool, Bool, Bool, Int, Int, Int, Int)] = [
        (3, 5, 3, 1, 1, true, false, true, 300, 7, 9, 9),
        (3, 5, 3, 1, 1, true, false, true, 5_000, 9, 9, 9),
        (2, 4, 3, 2, 0, false, false, true, 2_000, 11, 10, 9),
        (1, 8, 3, 1, 1, true, false, false, Conv2d.defaultColumnBudget, 64, 16, 16),
        (4, 6, 5, 1, 2, true, true, true, 3_000, 6, 8, 7),
        (16, 32, 3, 1, 1, true, false, true, Conv2d.defaultColumnBudget, 24, 14, 14),
    ]

    func testEveryThreadCountGivesTheBitsOfOneThread() throws {
        var joins = 0
        for (index, (c, o, k, s, p, bias, centred, dx, budget, n, h, w)) in configurations.enumerated() {
            var rng = RandomGenerator(seed: 40 + UInt64(index))
            let layer = Conv2d(c, o, kernelSize: k, stride: s, padding: p, bias: bias, centredWeights: centred,
                               computesInputGradient: dx, columnBudget: budget, rng: &rng)
            let oh = layer.outputSize(h), ow = layer.outputSize(w)
            let inputs = (0..<2).map { TestTensors.normal(Shape(n, c, h, w), seed: 500 + 10 * UInt64(index) + UInt64($0)) }
            let gradients = (0..<2).map {
                TestTensors.normal(Shape(n, o, oh, ow), seed: 600 + 10 * UInt64(index) + UInt64($0))
            }
            joins += try ThreadCountCheck.assertSameBits(layer, inputs: inputs, gradients: gradients, mode: .train,
                                                         "configuration \(index)")
        }
        XCTAssertGreaterThan(joins, 0, "the workers joined some region: the parallel paths ran")
    }
}
