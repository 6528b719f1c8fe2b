import TensorCore

/// Average pooling, as `torch.nn.AvgPool2d(kernel, stride)` (padding 0, floor mode):
/// `y = (1 / K^2) * sum of the K x K window`.
/// Shapes: `x (N, C, H, W) -> y (N, C, OH, OW)`, `OH = (H - K) / S + 1` (``PoolingWindow``).
/// Planes are independent: blocks of them run on the forward's threads (`mode.threads`).
public final class AvgPool2d: Layer {
    public let kernelSize: Int
    public let stride: Int

    private var inputShape = Shape(0)
    private let output = Tensor()
    private let inputGradient = Tensor()
    private var threads = ComputeThreads.serial

    public init(kernelSize: Int, stride: Int? = nil) {
        self.kernelSize = kernelSize
        self.stride = PoolingWindow.stride(stride, kernelSize: kernelSize, layer: "AvgPool2d")
    }

    public var name: String { "AvgPool2d(k\(kernelSize), s\(stride))" }
    public func clone() -> AvgPool2d { AvgPool2d(kernelSize: kernelSize, stride: stride) }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        output.resize(to: try PoolingWindow.outputShape(of: x.shape, kernelSize: kernelSize, stride: stride, layer: name))
        inputShape = x.shape
        threads = mode.threads
        let h = x.shape[2], w = x.shape[3], oh = output.shape[2], ow = output.shape[3]
        let scale = 1 / Float(kernelSize * kernelSize), kernel = kernelSize, stride = self.stride
        let (input, out) = (UnsafePointer(x.data), output.data)
        threads.forEachBlock(x.shape.batch * x.shape.channels, work: x.count) { block in
            for plane in block {
                let src = input + plane * h * w
                let dst = out + plane * oh * ow
                for i in 0..<oh {
                    for j in 0..<ow {
                        var s: Float = 0
                        for ki in 0..<kernel {
                            let row = src + (i * stride + ki) * w + j * stride
                            for kj in 0..<kernel { s += row[kj] }
                        }
                        dst[i * ow + j] = s * scale
                    }
                }
            }
        }
        return output
    }

    /// Each input in a window receives `dy / K^2` (summed over overlapping windows).
    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.shape == output.shape, "\(name): gradient \(dy.shape) does not match output \(output.shape)")
        inputGradient.resize(to: inputShape)
        let h = inputShape[2], w = inputShape[3], oh = output.shape[2], ow = output.shape[3]
        let scale = 1 / Float(kernelSize * kernelSize), kernel = kernelSize, stride = self.stride
        let (gradient, outputGradient) = (inputGradient.data, UnsafePointer(dy.data))
        threads.forEachBlock(inputShape.batch * inputShape.channels, work: inputShape.count) { block in
            (gradient + block.lowerBound * h * w).update(repeating: 0, count: block.count * h * w)
            for plane in block {
                let dx = gradient + plane * h * w
                let g = outputGradient + plane * oh * ow
                for i in 0..<oh {
                    for j in 0..<ow {
                        let v = g[i * ow + j] * scale
                        for ki in 0..<kernel {
                            let row = dx + (i * stride + ki) * w + j * stride
                            for kj in 0..<kernel { row[kj] += v }
                        }
                    }
                }
            }
        }
        return inputGradient
    }
}
