import TensorCore

/// Per-channel moments of NCHW data over a range of samples, one channel at a time,
/// accumulated in Double: the plain reference versions of ``BatchNormKernels``, which
/// ``BatchNorm`` and ``BatchRenorm`` use (`BatchNormKernelTests` holds the kernels to these);
/// ``MovingAverageBatchNorm`` calls these per-channel loops itself.
///
/// Layout: sample `n`, channel `c` is the contiguous plane `x + (n*C + c)*HW`.
enum ChannelMoments {
    /// Mean and BIASED variance (divide by `m = samples.count * HW`) of channel `c`.
    @inline(__always)
    static func meanAndVariance(_ x: UnsafePointer<Float>, samples: Range<Int>, channel c: Int,
                                channels: Int, spatial hw: Int) -> (mean: Double, variance: Double) {
        var sum = 0.0
        for n in samples {
            let plane = x + (n * channels + c) * hw
            for i in 0..<hw { sum += Double(plane[i]) }
        }
        let m = Double(samples.count * hw)
        let mean = sum / m
        var sq = 0.0
        for n in samples {
            let plane = x + (n * channels + c) * hw
            for i in 0..<hw { let d = Double(plane[i]) - mean; sq += d * d }
        }
        return (mean, sq / m)
    }

    /// `y = x * scale + shift` on channel `c` of the given samples.
    @inline(__always)
    static func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, samples: Range<Int>, channel c: Int,
                       channels: Int, spatial hw: Int, scale: Float, shift: Float) {
        for n in samples {
            let offset = (n * channels + c) * hw
            let src = x + offset, dst = y + offset
            for i in 0..<hw { dst[i] = src[i] * scale + shift }
        }
    }

    /// `(sum dy, sum (x - mean) * dy)` over channel `c` of the given samples.
    @inline(__always)
    static func gradientSums(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, samples: Range<Int>, channel c: Int,
                             channels: Int, spatial hw: Int, mean: Float) -> (sum: Double, dot: Double) {
        var sum = 0.0, dot = 0.0
        for n in samples {
            let offset = (n * channels + c) * hw
            let xs = x + offset, g = dy + offset
            for i in 0..<hw {
                sum += Double(g[i])
                dot += Double(xs[i] - mean) * Double(g[i])
            }
        }
        return (sum, dot)
    }
}
