/// `sum x[i]` in Float with eight partial sums (one SIMD8 accumulator, vectorized), then the
/// tail in order: the per-plane reduction of ``BatchNormKernels`` and Conv2d's bias gradient.
/// Its rounding differs from a sequential sum; both callers are held to Double references by
/// their tests (`BatchNormKernelTests`, `ConvolutionKernelTests`).
enum PartialSums {
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            acc += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var total = acc.sum()
        while i < count { total += x[i]; i += 1 }
        return total
    }
}
