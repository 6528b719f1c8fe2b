import TensorCore

/// The plain reference that the tuned im2col + GEMM convolution is held to: a direct
/// cross-correlation in nested loops, accumulated in Double.
///
/// `y[n][o][i][j] = b[o] + sum_{c, ki, kj} w[o][c][ki][kj] * x[n][c][i*S - P + ki][j*S - P + kj]`,
/// zero outside the image; `OH = (H + 2P - K) / S + 1` (floor).
/// Shapes: `x (N, C, H, W)`, `w (O, C, K, K)`, `b (O)`, `y (N, O, OH, OW)`.
enum ReferenceConvolution {
    /// The output values (row-major `(N, O, OH, OW)`) and, per output, `|b| + sum |w * x|`:
    /// the scale of the rounding error of any Float evaluation of that sum.
    static func forward(x: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int)
        -> (values: [Double], magnitudes: [Double], shape: Shape) {
        let n = x.shape.batch, c = x.shape.channels, h = x.shape[2], w = x.shape[3]
        let o = weight.shape[0], k = weight.shape[2]
        let oh = (h + 2 * padding - k) / stride + 1, ow = (w + 2 * padding - k) / stride + 1
        var values: [Double] = [], magnitudes: [Double] = []
        for sample in 0..<n {
            for out in 0..<o {
                for i in 0..<oh {
                    for j in 0..<ow {
                        let b = Double(bias?[out] ?? 0)
                        var sum = b, magnitude = abs(b)
                        for channel in 0..<c {
                            for ki in 0..<k {
                                for kj in 0..<k {
                                    let row = i * stride - padding + ki, column = j * stride - padding + kj
                                    guard row >= 0, row < h, column >= 0, column < w else { continue }
                                    let term = Double(weight[((out * c + channel) * k + ki) * k + kj])
                                        * Double(x[((sample * c + channel) * h + row) * w + column])
                                    sum += term
                                    magnitude += abs(term)
                                }
                            }
                        }
                        values.append(sum)
                        magnitudes.append(magnitude)
                    }
                }
            }
        }
        return (values, magnitudes, Shape(n, o, oh, ow))
    }
}
