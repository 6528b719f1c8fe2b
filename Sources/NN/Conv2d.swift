import TensorCore

/// 2-D convolution (cross-correlation), as `torch.nn.Conv2d(C, O, K, stride, padding)`,
/// computed as im2col + GEMM, one sample at a time.
///
/// Shapes: `x (N, C, H, W)`, `W (O, C, KH, KW)` (PyTorch's layout), `b (O)`,
/// `y (N, O, OH, OW)` with `OH = (H + 2*padding - KH) / stride + 1` (floor).
/// `P = OH*OW`, `CKK = C*KH*KW`; `cols (CKK, P)` is the im2col matrix of one sample.
/// Forward keeps a reference to `x`; backward rebuilds each sample's `cols`
/// (cheaper in memory than keeping `N` of them).
public final class Conv2d: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    public let weight: Parameter
    public let bias: Parameter?
    /// Whether `backward` computes dLoss/dInput. The first layer of a model has no use
    /// for it (PyTorch skips it too when the input does not require a gradient); when
    /// false, `backward` still accumulates the parameter gradients but returns an
    /// EMPTY tensor (shape `(0)`), so a caller that needs dInput fails loudly.
    public var computesInputGradient = true

    private var input: Tensor?
    private let output = Tensor()
    private let inputGradient = Tensor()
    private let cols = Tensor()
    private let colsGradient = Tensor()

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, rng: inout RandomGenerator) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
                     "Conv2d(\(inChannels), \(outChannels), k\(kernelSize), s\(stride), p\(padding)): bad configuration")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        let fanIn = inChannels * kernelSize * kernelSize
        weight = Parameter(name: "weight", value: Tensor(Shape(outChannels, inChannels, kernelSize, kernelSize)))
        Initialization.pytorchDefault(weight.value, fanIn: fanIn, rng: &rng)
        if bias {
            let b = Parameter(name: "bias", value: Tensor(Shape(outChannels)))
            Initialization.pytorchDefault(b.value, fanIn: fanIn, rng: &rng)
            self.bias = b
        } else {
            self.bias = nil
        }
    }

    private init(copying o: Conv2d) {
        inChannels = o.inChannels; outChannels = o.outChannels; kernelSize = o.kernelSize
        stride = o.stride; padding = o.padding
        weight = o.weight.copy(); bias = o.bias?.copy()
        computesInputGradient = o.computesInputGradient
    }

    public var name: String { "Conv2d(\(inChannels)->\(outChannels), k\(kernelSize), s\(stride), p\(padding))" }
    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }
    public func clone() -> Layer { Conv2d(copying: self) }

    /// Output spatial size for an input of `size` pixels.
    public func outputSize(_ size: Int) -> Int { (size + 2 * padding - kernelSize) / stride + 1 }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.shape.rank == 4, x.shape.channels == inChannels else {
            throw LayerError(layer: name, "expected input (N, \(inChannels), H, W), got \(x.shape)")
        }
        let n = x.shape.batch, h = x.shape[2], w = x.shape[3]
        guard h + 2 * padding >= kernelSize, w + 2 * padding >= kernelSize else {
            throw LayerError(layer: name, "input \(h)x\(w) is smaller than the kernel \(kernelSize) with padding \(padding)")
        }
        let oh = outputSize(h), ow = outputSize(w), p = oh * ow
        let ckk = inChannels * kernelSize * kernelSize
        input = x
        output.resize(to: Shape(n, outChannels, oh, ow))
        cols.resize(to: Shape(ckk, p))
        let wData = weight.value.data
        for sample in 0..<n {
            let xs = x.data + sample * inChannels * h * w
            let ys = output.data + sample * outChannels * p
            Im2col.forward(xs, channels: inChannels, height: h, width: w, kernel: kernelSize,
                           stride: stride, padding: padding, cols: cols.data)
            if let b = bias {
                for o in 0..<outChannels { (ys + o * p).update(repeating: b.value.data[o], count: p) }
            }
            // y_n (O, P) = W (O, CKK) x cols (CKK, P) [+ y_n]
            BLAS.gemm(m: outChannels, n: p, k: ckk, a: wData, aCount: weight.value.count,
                      b: cols.data, bCount: cols.count, beta: bias == nil ? 0 : 1,
                      c: ys, cCount: outChannels * p)
        }
        return output
    }

    /// `dW += dy_n cols_n^T`, `db += sum dy_n`, `dcols = W^T dy_n`, `dx_n = col2im(dcols)`.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        precondition(dy.shape == output.shape, "\(name): gradient \(dy.shape) does not match output \(output.shape)")
        let n = x.shape.batch, h = x.shape[2], w = x.shape[3]
        let oh = output.shape[2], ow = output.shape[3], p = oh * ow
        let ckk = inChannels * kernelSize * kernelSize
        inputGradient.resize(to: computesInputGradient ? x.shape : Shape(0))
        colsGradient.resize(to: Shape(ckk, p))
        cols.resize(to: Shape(ckk, p))
        let wData = weight.value.data, dW = weight.gradient.data
        for sample in 0..<n {
            let xs = x.data + sample * inChannels * h * w
            let dys = dy.data + sample * outChannels * p
            Im2col.forward(xs, channels: inChannels, height: h, width: w, kernel: kernelSize,
                           stride: stride, padding: padding, cols: cols.data)
            // dW (O, CKK) += dy_n (O, P) x cols^T (P, CKK)
            BLAS.gemm(transposeB: true, m: outChannels, n: ckk, k: p, a: dys, aCount: outChannels * p,
                      b: cols.data, bCount: cols.count, beta: 1, c: dW, cCount: weight.gradient.count)
            if let b = bias {
                let db = b.gradient.data
                for o in 0..<outChannels {
                    var s: Float = 0
                    let row = dys + o * p
                    for i in 0..<p { s += row[i] }
                    db[o] += s
                }
            }
            guard computesInputGradient else { continue }
            // dcols (CKK, P) = W^T (CKK, O) x dy_n (O, P)
            BLAS.gemm(transposeA: true, m: ckk, n: p, k: outChannels, a: wData, aCount: weight.value.count,
                      b: dys, bCount: outChannels * p, c: colsGradient.data, cCount: colsGradient.count)
            Im2col.backward(colsGradient.data, channels: inChannels, height: h, width: w, kernel: kernelSize,
                            stride: stride, padding: padding,
                            inputGradient: inputGradient.data + sample * inChannels * h * w)
        }
        return inputGradient
    }
}

/// The im2col transform and its adjoint (col2im), for one sample.
///
/// `cols[(c*K + ki)*K + kj][oh*OW + ow] = x[c][oh*stride - padding + ki][ow*stride - padding + kj]`,
/// zero outside the image.
public enum Im2col {
    public static func outputSize(_ size: Int, kernel: Int, stride: Int, padding: Int) -> Int {
        (size + 2 * padding - kernel) / stride + 1
    }

    public static func forward(_ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                               kernel: Int, stride: Int, padding: Int, cols: UnsafeMutablePointer<Float>) {
        let oh = outputSize(height, kernel: kernel, stride: stride, padding: padding)
        let ow = outputSize(width, kernel: kernel, stride: stride, padding: padding)
        var row = cols
        for c in 0..<channels {
            let plane = x + c * height * width
            for ki in 0..<kernel {
                for kj in 0..<kernel {
                    for i in 0..<oh {
                        let y = i * stride - padding + ki
                        let dst = row + i * ow
                        if y < 0 || y >= height {
                            dst.update(repeating: 0, count: ow)
                            continue
                        }
                        let src = plane + y * width
                        if stride == 1 {
                            // columns j with 0 <= j - padding + kj < width
                            let lo = max(0, padding - kj), hi = min(ow, width + padding - kj)
                            if lo > 0 { dst.update(repeating: 0, count: min(lo, ow)) }
                            if hi > lo { (dst + lo).update(from: src + (lo - padding + kj), count: hi - lo) }
                            if hi < ow { (dst + max(hi, 0)).update(repeating: 0, count: ow - max(hi, 0)) }
                        } else {
                            for j in 0..<ow {
                                let xx = j * stride - padding + kj
                                dst[j] = (xx >= 0 && xx < width) ? src[xx] : 0
                            }
                        }
                    }
                    row += oh * ow
                }
            }
        }
    }

    /// `dx += col2im(dcols)`; overwrites `inputGradient` (one sample, `C*H*W` values).
    public static func backward(_ dcols: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                                kernel: Int, stride: Int, padding: Int, inputGradient dx: UnsafeMutablePointer<Float>) {
        let oh = outputSize(height, kernel: kernel, stride: stride, padding: padding)
        let ow = outputSize(width, kernel: kernel, stride: stride, padding: padding)
        dx.update(repeating: 0, count: channels * height * width)
        var row = dcols
        for c in 0..<channels {
            let plane = dx + c * height * width
            for ki in 0..<kernel {
                for kj in 0..<kernel {
                    for i in 0..<oh {
                        let y = i * stride - padding + ki
                        if y < 0 || y >= height { continue }
                        let src = row + i * ow
                        let dst = plane + y * width
                        for j in 0..<ow {
                            let xx = j * stride - padding + kj
                            if xx >= 0 && xx < width { dst[xx] += src[j] }
                        }
                    }
                    row += oh * ow
                }
            }
        }
    }
}
