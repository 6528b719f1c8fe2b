import TensorCore

/// Max pooling, as `torch.nn.MaxPool2d(kernel, stride)` (padding 0, floor mode).
///
/// Shapes: `x (N, C, H, W) -> y (N, C, OH, OW)`, `OH = (H - K) / S + 1`.
/// Ties keep the first maximum in row-major window order and NaN propagates,
/// as PyTorch's CPU kernel does (`val > max || isnan(val)`).
/// Forward keeps the argmax of each output (an index into its input plane).
public final class MaxPool2d: Layer {
    public let kernelSize: Int
    public let stride: Int

    private var inputShape = Shape(0)
    private let output = Tensor()
    private var argmax: UnsafeMutablePointer<Int32>
    private var argmaxCapacity = 0
    private let inputGradient = Tensor()

    public init(kernelSize: Int, stride: Int? = nil) {
        precondition(kernelSize > 0 && (stride ?? 1) > 0, "MaxPool2d: kernel and stride must be positive")
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        argmax = .allocate(capacity: 1)
    }

    deinit { argmax.deallocate() }

    public var name: String { "MaxPool2d(k\(kernelSize), s\(stride))" }
    public func clone() -> Layer { MaxPool2d(kernelSize: kernelSize, stride: stride) }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.shape.rank == 4, x.shape[2] >= kernelSize, x.shape[3] >= kernelSize else {
            throw LayerError(layer: name, "expected input (N, C, H, W) with H, W >= \(kernelSize), got \(x.shape)")
        }
        inputShape = x.shape
        let h = x.shape[2], w = x.shape[3]
        let oh = (h - kernelSize) / stride + 1, ow = (w - kernelSize) / stride + 1
        let planes = x.shape.batch * x.shape.channels
        output.resize(to: Shape(x.shape.batch, x.shape.channels, oh, ow))
        if output.count > argmaxCapacity {
            argmax.deallocate()
            argmaxCapacity = output.count
            argmax = .allocate(capacity: argmaxCapacity)
        }
        for plane in 0..<planes {
            let src = x.data + plane * h * w
            let dst = output.data + plane * oh * ow
            let arg = argmax + plane * oh * ow
            for i in 0..<oh {
                for j in 0..<ow {
                    var best = -Float.infinity
                    var bestIndex = (i * stride) * w + j * stride
                    for ki in 0..<kernelSize {
                        let rowStart = (i * stride + ki) * w + j * stride
                        for kj in 0..<kernelSize {
                            let v = src[rowStart + kj]
                            if v > best || v.isNaN { best = v; bestIndex = rowStart + kj; if v.isNaN { break } }
                        }
                        if best.isNaN { break }
                    }
                    dst[i * ow + j] = best
                    arg[i * ow + j] = Int32(bestIndex)
                }
            }
        }
        return output
    }

    /// `dx[argmax] += dy`.
    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.shape == output.shape, "\(name): gradient \(dy.shape) does not match output \(output.shape)")
        inputGradient.resize(to: inputShape)
        inputGradient.fill(0)
        let hw = inputShape.spatial, ohw = output.shape.spatial
        for plane in 0..<(inputShape.batch * inputShape.channels) {
            let dx = inputGradient.data + plane * hw
            let g = dy.data + plane * ohw
            let arg = argmax + plane * ohw
            for o in 0..<ohw { dx[Int(arg[o])] += g[o] }
        }
        return inputGradient
    }
}
