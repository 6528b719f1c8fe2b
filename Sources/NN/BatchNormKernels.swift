import TensorCore

/// The loops of ``BatchNorm``, over ALL channels at once so that memory is read in order.
///
/// Legend: NCHW (or `(N, C)` with `HW = 1`); a plane is the `HW` contiguous values of one
/// sample and channel, `x + (n*C + c)*HW`. Per-channel results go to arrays indexed by `c`.
/// - `HW > 1`: each plane is reduced in Float with eight partial sums (vectorized; a plane is
///   a few hundred values), and the planes are combined in Double (Chan, Golub & LeVeque's
///   pairwise update for means and squared deviations).
/// - `HW = 1`: rows of `C` values, accumulated in Double across the batch, vectorized over `c`.
/// `ChannelMoments` holds the plain one-channel-at-a-time reference versions, and
/// `BatchNormKernelTests` holds these to them.
///
/// Threads: every loop runs on blocks of channels spread over `threads`
/// (``ComputeThreads/forEachBlock(_:work:_:)``). Each channel's sums keep their order over the
/// samples, so any thread count gives the bits of one thread.
enum BatchNormKernels {
    /// `mean[c]` and BIASED `variance[c]` over `samples` (`m = samples.count * HW` values each).
    static func moments(_ x: UnsafePointer<Float>, samples: Range<Int>, channels: Int, spatial hw: Int,
                        mean: UnsafeMutablePointer<Double>, variance: UnsafeMutablePointer<Double>,
                        threads: ComputeThreads) {
        threads.forEachBlock(channels, work: samples.count * channels * hw) { block in
            withSums(block, of: channels, mean, variance) { mean, variance in
                moments(x, samples: samples, channels: channels, block: block, spatial: hw, mean: mean, variance: variance)
            }
        }
    }

    /// `body(first, second)` with per-channel sums of the channels in `block`, indexed from
    /// `block.lowerBound`: `first` and `second` themselves for all channels (one thread), else a block of
    /// the thread's own, copied to them afterwards (threads that accumulate into neighbouring values of
    /// one cache line would take turns owning it at every sample).
    @inline(__always)
    private static func withSums(_ block: Range<Int>, of channels: Int, _ first: UnsafeMutablePointer<Double>,
                                 _ second: UnsafeMutablePointer<Double>,
                                 _ body: (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void) {
        guard block.count < channels else { return body(first, second) }
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * block.count) { local in
            let a = local.baseAddress!, b = a + block.count
            body(a, b)
            (first + block.lowerBound).update(from: a, count: block.count)
            (second + block.lowerBound).update(from: b, count: block.count)
        }
    }

    /// ``moments(_:samples:channels:spatial:mean:variance:threads:)`` of the channels in `block`, into
    /// `mean[c - block.lowerBound]` and `variance[c - block.lowerBound]`.
    private static func moments(_ x: UnsafePointer<Float>, samples: Range<Int>, channels: Int, block: Range<Int>,
                                spatial hw: Int, mean: UnsafeMutablePointer<Double>,
                                variance: UnsafeMutablePointer<Double>) {
        let first = block.lowerBound
        mean.update(repeating: 0, count: block.count)
        variance.update(repeating: 0, count: block.count)
        let m = Double(samples.count * hw)
        if hw == 1 {
            for n in samples {
                let row = x + n * channels + first
                for c in 0..<block.count { mean[c] += Double(row[c]) }
            }
            for c in 0..<block.count { mean[c] /= m }
            for n in samples {
                let row = x + n * channels + first
                for c in 0..<block.count { let d = Double(row[c]) - mean[c]; variance[c] += d * d }
            }
            for c in 0..<block.count { variance[c] /= m }
            return
        }
        // variance[] holds the sum of squared deviations M2 until the end
        let planeCount = Double(hw)
        for (seen, n) in samples.enumerated() {
            let before = Double(seen * hw), after = before + planeCount
            for c in 0..<block.count {
                let (planeMean, planeM2) = planeMoments(x + (n * channels + first + c) * hw, count: hw)
                let delta = Double(planeMean) - mean[c]
                mean[c] += delta * (planeCount / after)
                variance[c] += Double(planeM2) + delta * delta * (before * planeCount / after)
            }
        }
        for c in 0..<block.count { variance[c] /= m }
    }

    /// `sum[c] = sum dy`, `dot[c] = sum (x - mean[c]) * dy` over `samples`.
    static func gradientSums(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, samples: Range<Int>,
                             channels: Int, spatial hw: Int, mean: UnsafePointer<Float>,
                             sum: UnsafeMutablePointer<Double>, dot: UnsafeMutablePointer<Double>,
                             threads: ComputeThreads) {
        threads.forEachBlock(channels, work: samples.count * channels * hw) { block in
            withSums(block, of: channels, sum, dot) { sum, dot in
                gradientSums(x, dy, samples: samples, channels: channels, block: block, spatial: hw, mean: mean,
                             sum: sum, dot: dot)
            }
        }
    }

    /// ``gradientSums(_:_:samples:channels:spatial:mean:sum:dot:threads:)`` of the channels in `block`, into
    /// `sum[c - block.lowerBound]` and `dot[c - block.lowerBound]`.
    private static func gradientSums(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, samples: Range<Int>,
                                     channels: Int, block: Range<Int>, spatial hw: Int, mean: UnsafePointer<Float>,
                                     sum: UnsafeMutablePointer<Double>, dot: UnsafeMutablePointer<Double>) {
        let first = block.lowerBound, mean = mean + first
        sum.update(repeating: 0, count: block.count)
        dot.update(repeating: 0, count: block.count)
        if hw == 1 {
            for n in samples {
                let xs = x + n * channels + first, g = dy + n * channels + first
                for c in 0..<block.count {
                    sum[c] += Double(g[c])
                    dot[c] += Double(xs[c] - mean[c]) * Double(g[c])
                }
            }
            return
        }
        for n in samples {
            for c in 0..<block.count {
                let offset = (n * channels + first + c) * hw
                let (s, d) = planeGradientSums(x + offset, dy + offset, count: hw, mean: mean[c])
                sum[c] += Double(s)
                dot[c] += Double(d)
            }
        }
    }

    /// `y = x * scale[c] + shift[c]` over `samples`.
    static func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, samples: Range<Int>,
                       channels: Int, spatial hw: Int, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                       threads: ComputeThreads) {
        threads.forEachBlock(channels, work: samples.count * channels * hw) { block in
            affine(x, y, samples: samples, channels: channels, block: block, spatial: hw, scale: scale, shift: shift)
        }
    }

    /// ``affine(_:_:samples:channels:spatial:scale:shift:threads:)`` on the channels in `block`.
    private static func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, samples: Range<Int>,
                               channels: Int, block: Range<Int>, spatial hw: Int, scale: UnsafePointer<Float>,
                               shift: UnsafePointer<Float>) {
        if hw == 1 {
            for n in samples {
                let src = x + n * channels, dst = y + n * channels
                for c in block { dst[c] = src[c] * scale[c] + shift[c] }
            }
            return
        }
        for n in samples {
            for c in block {
                let offset = (n * channels + c) * hw
                let src = x + offset, dst = y + offset, a = scale[c], b = shift[c]
                for i in 0..<hw { dst[i] = src[i] * a + b }
            }
        }
    }

    /// The batch-statistics input gradient over `samples`:
    /// `dx = (dy - gradMean[c] - (x - mean[c]) * projection[c]) * scale[c]`.
    static func inputGradient(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                              samples: Range<Int>, channels: Int, spatial hw: Int, mean: UnsafePointer<Float>,
                              gradMean: UnsafePointer<Float>, projection: UnsafePointer<Float>,
                              scale: UnsafePointer<Float>, threads: ComputeThreads) {
        threads.forEachBlock(channels, work: samples.count * channels * hw) { block in
            inputGradient(x, dy, dx, samples: samples, channels: channels, block: block, spatial: hw, mean: mean,
                          gradMean: gradMean, projection: projection, scale: scale)
        }
    }

    /// ``inputGradient(_:_:_:samples:channels:spatial:mean:gradMean:projection:scale:threads:)`` of the
    /// channels in `block`.
    private static func inputGradient(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                      _ dx: UnsafeMutablePointer<Float>, samples: Range<Int>, channels: Int,
                                      block: Range<Int>, spatial hw: Int, mean: UnsafePointer<Float>,
                                      gradMean: UnsafePointer<Float>, projection: UnsafePointer<Float>,
                                      scale: UnsafePointer<Float>) {
        if hw == 1 {
            for n in samples {
                let xs = x + n * channels, g = dy + n * channels, d = dx + n * channels
                for c in block { d[c] = (g[c] - gradMean[c] - (xs[c] - mean[c]) * projection[c]) * scale[c] }
            }
            return
        }
        for n in samples {
            for c in block {
                let offset = (n * channels + c) * hw
                let xs = x + offset, g = dy + offset, d = dx + offset
                let mu = mean[c], gm = gradMean[c], p = projection[c], s = scale[c]
                for i in 0..<hw { d[i] = (g[i] - gm - (xs[i] - mu) * p) * s }
            }
        }
    }

    /// Mean and sum of squared deviations from it of one plane, in Float with eight partial sums.
    @inline(__always)
    static func planeMoments(_ x: UnsafePointer<Float>, count: Int) -> (mean: Float, m2: Float) {
        let mean = PartialSums.sum(x, count: count) / Float(count)
        let center = SIMD8<Float>(repeating: mean)
        var squares = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            let d = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - center
            squares += d * d
            i += 8
        }
        var m2 = squares.sum()
        for j in i..<count { let d = x[j] - mean; m2 += d * d }
        return (mean, m2)
    }

    /// `(sum dy, sum (x - mean) * dy)` of one plane, in Float with eight partial sums.
    @inline(__always)
    static func planeGradientSums(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, count: Int,
                                  mean: Float) -> (sum: Float, dot: Float) {
        let center = SIMD8<Float>(repeating: mean)
        var sums = SIMD8<Float>(repeating: 0), dots = sums
        var i = 0
        while i + 8 <= count {
            let g = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
            sums += g
            dots += (UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - center) * g
            i += 8
        }
        var sum = sums.sum(), dot = dots.sum()
        for j in i..<count {
            sum += dy[j]
            dot += (x[j] - mean) * dy[j]
        }
        return (sum, dot)
    }
}
