/// Moves a chunk between the GEMM layout `(O, S*P)` and NCHW `(S, O, P)`.
enum ConvolutionLayout {
    /// `y[s][c][p] = Y[c][s*P + p] + bias[c]` for the chunk's samples. `inPlace`: `Y` is
    /// already `y`'s block (one sample), only the bias is added.
    static func scatter(_ chunk: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, samples: Range<Int>,
                        channels: Int, pixels p: Int, bias: UnsafePointer<Float>?, inPlace: Bool) {
        let width = samples.count * p
        for s in samples {
            for c in 0..<channels {
                let dst = y + (s * channels + c) * p
                let b = bias?[c] ?? 0
                if inPlace {
                    if bias != nil { for i in 0..<p { dst[i] += b } }
                } else {
                    let src = chunk + c * width + (s - samples.lowerBound) * p
                    for i in 0..<p { dst[i] = src[i] + b }
                }
            }
        }
    }

    /// `Y[c][s*P + p] = dy[s][c][p]`: the adjoint layout move of ``scatter``.
    static func gather(_ dy: UnsafePointer<Float>, into chunk: UnsafeMutablePointer<Float>, samples: Range<Int>,
                       channels: Int, pixels p: Int) {
        let width = samples.count * p
        for s in samples {
            for c in 0..<channels {
                let src = dy + (s * channels + c) * p
                let dst = chunk + c * width + (s - samples.lowerBound) * p
                for i in 0..<p { dst[i] = src[i] }
            }
        }
    }
}
