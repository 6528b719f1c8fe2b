@testable import NN
import TensorCore
import XCTest

/// The tuned all-channel ``BatchNormKernels`` against the plain one-channel-at-a-time Double
/// reference ``ChannelMoments``, on shapes with `HW = 1` (BatchNorm1d), planes shorter and longer
/// than a SIMD vector, and data with a large offset (where a naive `E[x^2] - E[x]^2` would fail).
final class BatchNormKernelTests: XCTestCase {
    let shapes: [(n: Int, c: Int, hw: Int)] = [(2, 128, 1), (7, 5, 1), (1, 3, 4), (3, 4, 9), (5, 16, 64),
                                               (4, 3, 256), (2, 2, 263), (33, 8, 16)]

    func data(_ count: Int, offset: Float, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        return (0..<count).map { _ in offset + rng.normal() }
    }

    func testMomentsMatchReference() {
        for (n, c, hw) in shapes {
            for offset: Float in [0, 100] {
                let x = data(n * c * hw, offset: offset, seed: UInt64(n * c * hw))
                var mean = [Double](repeating: .nan, count: c), variance = mean
                for samples in [0..<n, (n / 2)..<n] where !samples.isEmpty {
                    BatchNormKernels.moments(x, samples: samples, channels: c, spatial: hw, mean: &mean,
                                             variance: &variance, threads: .serial)
                    for ch in 0..<c {
                        let (m, v) = ChannelMoments.meanAndVariance(x, samples: samples, channel: ch, channels: c, spatial: hw)
                        // Float plane sums: relative error ~1e-7 of the values' magnitude (|offset| + 1)
                        XCTAssertEqual(mean[ch], m, accuracy: 1e-6 * Double(abs(offset) + 4), "mean \(n)x\(c)x\(hw) c\(ch)")
                        // deviations are taken in Float about a Float mean: ~1e-6 relative, plus the
                        // offset's rounding (|offset| * 2^-24 per value) squared away
                        XCTAssertEqual(variance[ch], v, accuracy: 2e-5 * v + 1e-6, "variance \(n)x\(c)x\(hw) c\(ch)")
                    }
                }
            }
        }
    }

    func testGradientSumsMatchReference() {
        for (n, c, hw) in shapes {
            let x = data(n * c * hw, offset: 3, seed: 1), dy = data(n * c * hw, offset: 0, seed: 2)
            let mean = (0..<c).map { Float($0) * 0.25 + 2.5 }
            var sum = [Double](repeating: .nan, count: c), dot = sum
            BatchNormKernels.gradientSums(x, dy, samples: 0..<n, channels: c, spatial: hw, mean: mean, sum: &sum, dot: &dot,
                                          threads: .serial)
            for ch in 0..<c {
                let (s, d) = ChannelMoments.gradientSums(x, dy, samples: 0..<n, channel: ch, channels: c, spatial: hw,
                                                         mean: mean[ch])
                // Float partial sums of m terms of size ~1 (sum) and ~3 (dot): 1e-6 per sqrt-ish term count
                let m = Double(n * hw)
                XCTAssertEqual(sum[ch], s, accuracy: 1e-6 * m, "sum \(n)x\(c)x\(hw) c\(ch)")
                XCTAssertEqual(dot[ch], d, accuracy: 4e-6 * m, "dot \(n)x\(c)x\(hw) c\(ch)")
            }
        }
    }

    /// Same expression, same operands: bit-identical to the reference.
    func testAffineIsExactlyTheReference() {
        for (n, c, hw) in shapes {
            let x = data(n * c * hw, offset: 1, seed: 3)
            let scale = (0..<c).map { 0.5 + Float($0) }, shift = (0..<c).map { -Float($0) / 3 }
            var y = [Float](repeating: .nan, count: x.count), expected = y
            BatchNormKernels.affine(x, &y, samples: 0..<n, channels: c, spatial: hw, scale: scale, shift: shift,
                                    threads: .serial)
            for ch in 0..<c {
                ChannelMoments.affine(x, &expected, samples: 0..<n, channel: ch, channels: c, spatial: hw,
                                      scale: scale[ch], shift: shift[ch])
            }
            XCTAssertEqual(y, expected, "\(n)x\(c)x\(hw)")
        }
    }

    /// Same expression as the per-channel loop BatchNorm used before: bit-identical.
    func testInputGradientIsExactlyTheFormula() {
        for (n, c, hw) in shapes {
            let x = data(n * c * hw, offset: 1, seed: 4), dy = data(n * c * hw, offset: 0, seed: 5)
            let mean = (0..<c).map { Float($0) / 7 }, gradMean = (0..<c).map { Float($0) / 11 }
            let projection = (0..<c).map { 0.1 * Float($0) }, scale = (0..<c).map { 1 + Float($0) }
            var dx = [Float](repeating: .nan, count: x.count)
            BatchNormKernels.inputGradient(x, dy, &dx, samples: 0..<n, channels: c, spatial: hw, mean: mean,
                                           gradMean: gradMean, projection: projection, scale: scale, threads: .serial)
            for s in 0..<n {
                for ch in 0..<c {
                    for i in 0..<hw {
                        let j = (s * c + ch) * hw + i
                        XCTAssertEqual(dx[j], (dy[j] - gradMean[ch] - (x[j] - mean[ch]) * projection[ch]) * scale[ch])
                    }
                }
            }
        }
    }
}
