import TensorCore

/// 2-D convolution (cross-correlation), as `torch.nn.Conv2d(C, O, K, stride, padding)`,
/// computed as im2col + GEMM over chunks of the batch.
///
/// Shapes: `x (N, C, H, W)`, `W (O, C, KH, KW)` (PyTorch's layout), `b (O)`,
/// `y (N, O, OH, OW)` with `OH = (H + 2*padding - KH) / stride + 1` (floor).
/// `P = OH*OW`, `CKK = C*KH*KW`. The batch is cut into chunks of `S` samples
/// (`S*CKK*P <= columnBudget`, at least one sample); per chunk, `cols (CKK, S*P)` holds
/// the im2col columns of its samples side by side (column `s*P + p` is pixel `p` of
/// sample `s`), and ONE GEMM does the whole chunk:
/// `Y (O, S*P) = W (O, CKK) x cols`, scattered to `y` in `(N, O, P)` order plus the bias.
/// Forward keeps a reference to `x` and the columns of its last chunk; backward
/// rebuilds the other chunks' columns (cheaper in memory than keeping them all).
///
/// Weight centralization (`centredWeights`, MABN's `CenConv2d`, Yan et al. 2020, megvii-model/MABN
/// MABN.py): the convolution uses `Wc = W - mean(W)`, the mean over each output filter's
/// `C*KH*KW` values (`weight.mean(1).mean(2).mean(3)`), while `W` is the stored parameter; backward
/// maps the gradient through the centring projection, `dW += dWc - mean(dWc)` per filter, and
/// `dcols = Wc^T dY`.
public final class Conv2d: Layer {
    /// The default ``columnBudget``: 2^16 values (256 KiB of columns per chunk, within L2).
    /// Measured against 2^18 (idle 2-core machine, `bnlab bench`): the same speed on one thread
    /// within the machine's noise; a flagship cell at batch 128 peaks at 63 MB resident instead
    /// of 72; and the chunks' GEMMs stay below BLAS's one-thread threshold, where at 2^18 two
    /// OpenBLAS threads made the 28x28 CNN at batch 128 train at 3,600 samples/s instead of 6,200.
    public static let defaultColumnBudget = 1 << 16

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
    public let computesInputGradient: Bool
    /// Whether the convolution uses the centred weight `W - mean(W)` per output filter (MABN's
    /// `CenConv2d`); see the type's summary.
    public let centredWeights: Bool
    /// Most values of im2col columns per chunk (`S*CKK*P`); bounds the workspace.
    /// Changes only speed and memory, never the results beyond float rounding.
    public let columnBudget: Int

    private var input: Tensor?
    private let output = Tensor()
    private let inputGradient = Tensor()
    /// `cols (CKK, S*P)` of one chunk; `colsChunk` names the samples it holds (nil: none).
    private let cols = Tensor()
    private var colsChunk: Range<Int>?
    private let colsGradient = Tensor()
    /// `(O, S*P)`: the chunk's GEMM output in forward, its gathered `dy` in backward.
    private let chunkOutput = Tensor()
    /// With ``centredWeights``: `Wc (O, CKK)` of the last forward and the gradient `dWc` before the projection.
    private let centred = Tensor()
    private let centredGradient = Tensor()

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, centredWeights: Bool = false, computesInputGradient: Bool = true,
                columnBudget: Int = Conv2d.defaultColumnBudget, rng: inout RandomGenerator) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
                     "Conv2d(\(inChannels), \(outChannels), k\(kernelSize), s\(stride), p\(padding)): bad configuration")
        precondition(columnBudget >= 1, "Conv2d: column budget must be >= 1, got \(columnBudget)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.computesInputGradient = computesInputGradient
        self.centredWeights = centredWeights
        self.columnBudget = columnBudget
        (weight, self.bias) = Initialization.weightAndBias(Shape(outChannels, inChannels, kernelSize, kernelSize),
                                                           fanIn: inChannels * kernelSize * kernelSize, bias: bias, rng: &rng)
    }

    private init(copying o: Conv2d) {
        inChannels = o.inChannels; outChannels = o.outChannels; kernelSize = o.kernelSize
        stride = o.stride; padding = o.padding
        weight = o.weight.copy(); bias = o.bias?.copy()
        computesInputGradient = o.computesInputGradient
        centredWeights = o.centredWeights
        columnBudget = o.columnBudget
    }

    public var name: String {
        "Conv2d(\(inChannels)->\(outChannels), k\(kernelSize), s\(stride), p\(padding)\(centredWeights ? ", centred" : ""))"
    }
    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }
    public func clone() -> Conv2d { Conv2d(copying: self) }

    /// Output spatial size for an input of `size` pixels.
    public func outputSize(_ size: Int) -> Int { (size + 2 * padding - kernelSize) / stride + 1 }

    /// The chunks of a batch of `n` samples with `perSample = CKK*P` column values each.
    private func chunks(_ n: Int, perSample: Int) -> [Range<Int>] {
        let size = max(1, min(n, columnBudget / max(perSample, 1)))
        return Swift.stride(from: 0, to: n, by: size).map { $0..<min(n, $0 + size) }
    }

    /// Fills `cols` with the im2col columns of `samples` of `x`.
    private func fillColumns(_ x: Tensor, _ samples: Range<Int>, pixels p: Int) {
        let h = x.shape[2], w = x.shape[3], width = samples.count * p
        for s in samples {
            Im2col.forward(x.data + s * inChannels * h * w, channels: inChannels, height: h, width: w,
                           kernel: kernelSize, stride: stride, padding: padding,
                           cols: cols.data + (s - samples.lowerBound) * p, rowStride: width)
        }
        colsChunk = samples
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.shape.rank == 4, x.shape.channels == inChannels else {
            throw LayerError(layer: name, "expected input (N, \(inChannels), H, W), got \(x.shape)")
        }
        let n = x.shape.batch, h = x.shape[2], w = x.shape[3]
        guard h + 2 * padding >= kernelSize, w + 2 * padding >= kernelSize else {
            throw LayerError(layer: name, "input \(h)x\(w) is smaller than the kernel \(kernelSize) with padding \(padding)")
        }
        let oh = outputSize(h), ow = outputSize(w), p = oh * ow
        let ckk = inChannels * kernelSize * kernelSize, o = outChannels
        input = x
        colsChunk = nil
        output.resize(to: Shape(n, o, oh, ow))
        let weights = effectiveWeight()
        for samples in chunks(n, perSample: ckk * p) {
            let width = samples.count * p
            cols.resize(to: Shape(ckk, width))
            fillColumns(x, samples, pixels: p)
            // one sample: Y (O, P) is y_n itself; more: Y (O, S*P) is scattered below
            let direct = samples.count == 1
            if !direct { chunkOutput.resize(to: Shape(o, width)) }
            let y = direct ? output.data + samples.lowerBound * o * p : chunkOutput.data
            BLAS.gemm(m: o, n: width, k: ckk, a: weights, aCount: weight.value.count,
                      b: cols.data, bCount: cols.count, c: y, cCount: o * width)
            ConvolutionLayout.scatter(y, into: output.data, samples: samples, channels: o, pixels: p,
                                      bias: bias?.value.data, inPlace: direct)
        }
        return output
    }

    /// The weight the convolution applies: `W`, or with ``centredWeights`` `Wc = W - mean(W)` per
    /// output filter (the mean in Double, rounded once), written to `centred`.
    private func effectiveWeight() -> UnsafePointer<Float> {
        guard centredWeights else { return UnsafePointer(weight.value.data) }
        let ckk = inChannels * kernelSize * kernelSize, w = weight.value.data
        centred.resize(to: Shape(outChannels, ckk))
        for f in 0..<outChannels {
            let row = w + f * ckk, out = centred.data + f * ckk
            var sum = 0.0
            for k in 0..<ckk { sum += Double(row[k]) }
            let mean = Float(sum / Double(ckk))
            for k in 0..<ckk { out[k] = row[k] - mean }
        }
        return UnsafePointer(centred.data)
    }

    /// Per chunk: `dW += dY cols^T`, `db += sum over pixels of dY`, `dcols = W^T dY`,
    /// `dx = col2im(dcols)`, with `dY (O, S*P)` the chunk's `dy` gathered like `Y`.
    /// With ``centredWeights``: `dWc = sum over chunks of dY cols^T`, `dW += dWc - mean(dWc)` per
    /// output filter, and `dcols = Wc^T dY`.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        precondition(dy.shape == output.shape, "\(name): gradient \(dy.shape) does not match output \(output.shape)")
        let n = x.shape.batch, h = x.shape[2], w = x.shape[3]
        let p = output.shape[2] * output.shape[3], o = outChannels
        let ckk = inChannels * kernelSize * kernelSize
        inputGradient.resize(to: computesInputGradient ? x.shape : Shape(0))
        let wData = centredWeights ? UnsafePointer(centred.data) : UnsafePointer(weight.value.data)
        let dW: Tensor
        var beta: Float
        if centredWeights {
            centredGradient.resize(to: Shape(o, ckk))
            (dW, beta) = (centredGradient, 0)
        } else {
            let taken = weight.takeGradientAccumulationBeta()
            (dW, beta) = (taken.gradient, taken.beta)  // beta: 0 for the first chunk after a zero_grad, then 1
        }
        defer { if centredWeights { accumulateCentredGradient() } }
        // last chunk first: its columns are still there from forward
        for samples in chunks(n, perSample: ckk * p).reversed() {
            let width = samples.count * p
            if colsChunk != samples {
                cols.resize(to: Shape(ckk, width))
                fillColumns(x, samples, pixels: p)
            }
            // dW (O, CKK) += dY (O, S*P) x cols^T (S*P, CKK)
            let dY = addColumnProducts(of: dy, samples: samples, pixels: p, beta: beta, into: dW)
            beta = 1
            if let b = bias {
                let db = b.gradient.data
                for c in 0..<o { db[c] += PartialSums.sum(dY + c * width, count: width) }
            }
            guard computesInputGradient else { continue }
            // dcols (CKK, S*P) = W^T (CKK, O) x dY (O, S*P)
            colsGradient.resize(to: Shape(ckk, width))
            BLAS.gemm(transposeA: true, m: ckk, n: width, k: o, a: wData, aCount: weight.value.count,
                      b: dY, bCount: o * width, c: colsGradient.data, cCount: colsGradient.count)
            for s in samples {
                Im2col.backward(colsGradient.data + (s - samples.lowerBound) * p, channels: inChannels,
                                height: h, width: w, kernel: kernelSize, stride: stride, padding: padding,
                                rowStride: width, inputGradient: inputGradient.data + s * inChannels * h * w)
            }
        }
        return inputGradient
    }

    /// Sums over every output position `(n, p)` of the last forward's im2col columns, for the
    /// weight derivatives of a following normalization's batch statistics (Cross-Iteration BN):
    /// `columnSums[k] = sum cols[k, (n, p)]` `(CKK)` and `products[o, k] = sum y[n, o, p] cols[k, (n, p)]`
    /// `(O, CKK)`, with `y (N, O, OH, OW)` of this conv's output shape (the products are the
    /// weight gradient that `dy = y` would give). Computed chunk by chunk like backward.
    public func positionSums(of y: Tensor, columnSums: Tensor, products: Tensor) {
        guard let x = input else { preconditionFailure("\(name): positionSums before forward") }
        precondition(y.shape == output.shape, "\(name): \(y.shape) is not the output shape \(output.shape)")
        let n = x.shape.batch, p = output.shape[2] * output.shape[3], o = outChannels
        let ckk = inChannels * kernelSize * kernelSize
        columnSums.resize(to: Shape(ckk))
        products.resize(to: Shape(o, ckk))
        var sums = [Double](repeating: 0, count: ckk)
        var beta: Float = 0
        for samples in chunks(n, perSample: ckk * p) {
            let width = samples.count * p
            if colsChunk != samples {
                cols.resize(to: Shape(ckk, width))
                fillColumns(x, samples, pixels: p)
            }
            for k in 0..<ckk {
                let row = cols.data + k * width
                for j in 0..<width { sums[k] += Double(row[j]) }
            }
            _ = addColumnProducts(of: y, samples: samples, pixels: p, beta: beta, into: products)
            beta = 1
        }
        for k in 0..<ckk { columnSums.data[k] = Float(sums[k]) }
    }

    /// `c (O, CKK) = beta * c + G cols^T` for the chunk `samples` of `g (N, O, OH, OW)`, whose columns
    /// `cols` holds; returns `G (O, S*P)`, the chunk gathered like `Y` (`g`'s own values for one sample).
    private func addColumnProducts(of g: Tensor, samples: Range<Int>, pixels p: Int, beta: Float,
                                   into c: Tensor) -> UnsafePointer<Float> {
        let o = outChannels, width = samples.count * p, ckk = inChannels * kernelSize * kernelSize
        let direct = samples.count == 1
        if !direct {
            chunkOutput.resize(to: Shape(o, width))
            ConvolutionLayout.gather(g.data, into: chunkOutput.data, samples: samples, channels: o, pixels: p)
        }
        let chunk = UnsafePointer(direct ? g.data + samples.lowerBound * o * p : chunkOutput.data)
        BLAS.gemm(transposeB: true, m: o, n: ckk, k: width, a: chunk, aCount: o * width,
                  b: cols.data, bCount: cols.count, beta: beta, c: c.data, cCount: c.count)
        return chunk
    }

    /// `dW += dWc - mean(dWc)` per output filter: the gradient through `Wc = W - mean(W)`.
    private func accumulateCentredGradient() {
        let ckk = inChannels * kernelSize * kernelSize
        let dW = weight.gradient.data, dWc = centredGradient.data
        for f in 0..<outChannels {
            let row = dWc + f * ckk
            var sum = 0.0
            for k in 0..<ckk { sum += Double(row[k]) }
            let mean = Float(sum / Double(ckk))
            for k in 0..<ckk { dW[f * ckk + k] += row[k] - mean }
        }
    }
}
