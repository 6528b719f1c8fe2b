import TensorCore

/// The window geometry of ``MaxPool2d`` and ``AvgPool2d``, PyTorch's defaults (padding 0, floor
/// mode): `K x K` windows every `S` pixels, `x (N, C, H, W) -> y (N, C, OH, OW)`,
/// `OH = (H - K) / S + 1`, `OW = (W - K) / S + 1`.
enum PoolingWindow {
    /// `stride ?? kernelSize`, refusing a kernel or stride below 1.
    static func stride(_ stride: Int?, kernelSize: Int, layer: String) -> Int {
        precondition(kernelSize > 0 && (stride ?? 1) > 0,
                     "\(layer): kernel and stride must be positive, got \(kernelSize) and \(stride ?? kernelSize)")
        return stride ?? kernelSize
    }

    /// `(N, C, OH, OW)`; throws unless `x` is `(N, C, H, W)` with `H, W >= K`. `layer` (the
    /// layer's name) is formatted only for the error.
    static func outputShape(of x: Shape, kernelSize k: Int, stride s: Int, layer: @autoclosure () -> String) throws -> Shape {
        guard x.rank == 4, x[2] >= k, x[3] >= k else {
            throw LayerError(layer: layer(), "expected input (N, C, H, W) with H, W >= \(k), got \(x)")
        }
        return Shape(x.batch, x.channels, (x[2] - k) / s + 1, (x[3] - k) / s + 1)
    }
}
