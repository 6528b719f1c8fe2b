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
/// Threads (`mode.threads`, ``ComputeThreads``): the chunks are the same whatever the thread count
/// (they depend on the sizes alone), and each chunk's GEMMs are the single-thread ones, on the
/// thread's own workspace. Forward runs the chunks in parallel. Backward runs, per chunk, the columns
/// and the gathered `dY` (in a workspace slot), `dcols` and `col2im` (each chunk writes its own
/// samples of `dx`) in parallel, and the sums over chunks, `dW` and `db`, as a chain in the
/// single-thread order (``ComputeThreads/pipeline(_:slots:prepare:ordered:independent:)``), beside
/// them. So every thread count gives the bits of one thread.
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
    /// of 72; and (when OpenBLAS still ran its own threads for GEMMs of 2^21 multiply-adds and more)
    /// at 2^18 two OpenBLAS threads made the 28x28 CNN at batch 128 train at 3,600 samples/s instead
    /// of 6,200. More chunks also give the threads of ``ComputeThreads`` more to share.
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
    /// The threads of the last forward, which its backward uses too.
    private var threads = ComputeThreads.serial
    /// On more than one thread: the chunks' workspaces, `cols` and `(O, S*P)` (the chunk's output in
    /// forward, one per worker; its gathered `dy` in backward, one per slot), and each worker's `dcols`.
    private var slots: [(cols: Tensor, chunk: Tensor)] = []
    private var workerColumnGradients: [Tensor] = []

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
        fillColumns(x, samples, pixels: p, into: cols)
        colsChunk = samples
    }

    /// Resizes `columns` to `(CKK, S*P)` and fills it with the im2col columns of `samples` of `x`.
    private func fillColumns(_ x: Tensor, _ samples: Range<Int>, pixels p: Int, into columns: Tensor) {
        let h = x.shape[2], w = x.shape[3], width = samples.count * p
        columns.resize(to: Shape(inChannels * kernelSize * kernelSize, width))
        for s in samples {
            Im2col.forward(x.data + s * inChannels * h * w, channels: inChannels, height: h, width: w,
                           kernel: kernelSize, stride: stride, padding: padding,
                           cols: columns.data + (s - samples.lowerBound) * p, rowStride: width)
        }
    }

    /// `y` of the chunk `samples`: `Y (O, S*P) = W cols` (into `y`'s own block for one sample, else
    /// into `chunk` and scattered), plus the bias; `columns` holds the chunk's columns.
    private func forwardChunk(_ samples: Range<Int>, weights: UnsafePointer<Float>, columns: Tensor, chunk: Tensor,
                              pixels p: Int) {
        let o = outChannels, width = samples.count * p, ckk = inChannels * kernelSize * kernelSize
        // one sample: Y (O, P) is y_n itself; more: Y (O, S*P) is scattered below
        let direct = samples.count == 1
        if !direct { chunk.resize(to: Shape(o, width)) }
        let y = direct ? output.data + samples.lowerBound * o * p : chunk.data
        BLAS.gemm(m: o, n: width, k: ckk, a: weights, aCount: weight.value.count,
                  b: columns.data, bCount: columns.count, c: y, cCount: o * width)
        ConvolutionLayout.scatter(y, into: output.data, samples: samples, channels: o, pixels: p,
                                  bias: bias?.value.data, inPlace: direct)
    }

    /// At least `slots` chunk workspaces and `workers` `dcols` workspaces.
    private func reserveWorkspaces(slots count: Int, workers: Int) {
        while slots.count < count { slots.append((Tensor(), Tensor())) }
        while workerColumnGradients.count < workers { workerColumnGradients.append(Tensor()) }
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
        threads = mode.threads
        output.resize(to: Shape(n, o, oh, ow))
        let weights = effectiveWeight()
        let chunks = chunks(n, perSample: ckk * p)
        if threads.active > 1 && chunks.count > 1 {
            reserveWorkspaces(slots: threads.count, workers: 0)
            let slots = self.slots
            threads.forEach(chunks.count) { k, worker in
                self.fillColumns(x, chunks[k], pixels: p, into: slots[worker].cols)
                self.forwardChunk(chunks[k], weights: weights, columns: slots[worker].cols, chunk: slots[worker].chunk,
                                  pixels: p)
            }
            return output
        }
        for samples in chunks {
            fillColumns(x, samples, pixels: p)
            forwardChunk(samples, weights: weights, columns: cols, chunk: chunkOutput, pixels: p)
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
        let n = x.shape.batch
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
        // last chunk first (in one thread: its columns are still there from forward)
        let order = chunks(n, perSample: ckk * p).reversed()
        if threads.active > 1 && order.count > 1 {
            backwardInParallel(x, dy, chunks: Array(order), weights: wData, into: dW, beta: beta, pixels: p)
            return inputGradient
        }
        for samples in order {
            if colsChunk != samples { fillColumns(x, samples, pixels: p) }
            // dW (O, CKK) += dY (O, S*P) x cols^T (S*P, CKK)
            let dY = addColumnProducts(of: dy, samples: samples, pixels: p, beta: beta, into: dW)
            beta = 1
            addBiasGradient(dY, width: samples.count * p)
            guard computesInputGradient else { continue }
            addInputGradient(dY, samples: samples, weights: wData, columnGradient: colsGradient, pixels: p)
        }
        return inputGradient
    }

    /// Backward's chunks (in `chunks`' order) on ``threads``: per chunk its columns and gathered `dY`
    /// in a slot, then the chain `dW`, `db` in that order beside `dcols` and `col2im`.
    private func backwardInParallel(_ x: Tensor, _ dy: Tensor, chunks: [Range<Int>], weights: UnsafePointer<Float>,
                                    into dW: Tensor, beta: Float, pixels p: Int) {
        let slotCount = 2 * threads.active  // the pipeline's; workers may join later, each with its dcols
        reserveWorkspaces(slots: slotCount, workers: threads.count)
        let slots = self.slots, columnGradients = workerColumnGradients
        // the slot's dY: its gathered buffer, or dy's own values for one sample
        let gathered = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: slotCount)
        gathered.initialize(repeating: UnsafePointer(dy.data), count: slotCount)
        defer { gathered.deallocate() }
        threads.pipeline(chunks.count, slots: slotCount, prepare: { k, slot, _ in
            self.fillColumns(x, chunks[k], pixels: p, into: slots[slot].cols)
            gathered[slot] = self.gathered(dy, samples: chunks[k], pixels: p, into: slots[slot].chunk)
        }, ordered: { k, slot in
            self.addColumnProducts(gathered[slot], samples: chunks[k], pixels: p, columns: slots[slot].cols,
                                   beta: k == 0 ? beta : 1, into: dW)
            self.addBiasGradient(gathered[slot], width: chunks[k].count * p)
        }, independent: { k, slot, worker in
            guard self.computesInputGradient else { return }
            self.addInputGradient(gathered[slot], samples: chunks[k], weights: weights,
                                  columnGradient: columnGradients[worker], pixels: p)
        })
    }

    /// `db[o] += sum over the chunk's pixels of dY[o]`, `dY (O, width)`.
    private func addBiasGradient(_ dY: UnsafePointer<Float>, width: Int) {
        guard let b = bias else { return }
        let db = b.gradient.data
        for c in 0..<outChannels { db[c] += PartialSums.sum(dY + c * width, count: width) }
    }

    /// `dx` of the chunk `samples` (overwritten): `dcols (CKK, S*P) = W^T (CKK, O) x dY (O, S*P)` into
    /// `columnGradient`, then `col2im` per sample.
    private func addInputGradient(_ dY: UnsafePointer<Float>, samples: Range<Int>, weights: UnsafePointer<Float>,
                                  columnGradient: Tensor, pixels p: Int) {
        let shape = input!.shape, h = shape[2], w = shape[3], width = samples.count * p
        let ckk = inChannels * kernelSize * kernelSize
        columnGradient.resize(to: Shape(ckk, width))
        BLAS.gemm(transposeA: true, m: ckk, n: width, k: outChannels, a: weights, aCount: weight.value.count,
                  b: dY, bCount: outChannels * width, c: columnGradient.data, cCount: columnGradient.count)
        for s in samples {
            Im2col.backward(columnGradient.data + (s - samples.lowerBound) * p, channels: inChannels,
                            height: h, width: w, kernel: kernelSize, stride: stride, padding: padding,
                            rowStride: width, inputGradient: inputGradient.data + s * inChannels * h * w)
        }
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
            if colsChunk != samples { fillColumns(x, samples, pixels: p) }
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
    @discardableResult
    private func addColumnProducts(of g: Tensor, samples: Range<Int>, pixels p: Int, beta: Float,
                                   into c: Tensor) -> UnsafePointer<Float> {
        let chunk = gathered(g, samples: samples, pixels: p, into: chunkOutput)
        addColumnProducts(chunk, samples: samples, pixels: p, columns: cols, beta: beta, into: c)
        return chunk
    }

    /// `G (O, S*P)`: the chunk `samples` of `g (N, O, OH, OW)` gathered like `Y` into `buffer`, or `g`'s
    /// own values for one sample.
    private func gathered(_ g: Tensor, samples: Range<Int>, pixels p: Int, into buffer: Tensor) -> UnsafePointer<Float> {
        let o = outChannels
        guard samples.count > 1 else { return UnsafePointer(g.data + samples.lowerBound * o * p) }
        buffer.resize(to: Shape(o, samples.count * p))
        ConvolutionLayout.gather(g.data, into: buffer.data, samples: samples, channels: o, pixels: p)
        return UnsafePointer(buffer.data)
    }

    /// `c (O, CKK) = beta * c + G columns^T`, `G (O, S*P)` the chunk `samples` gathered.
    private func addColumnProducts(_ chunk: UnsafePointer<Float>, samples: Range<Int>, pixels p: Int, columns: Tensor,
                                   beta: Float, into c: Tensor) {
        let o = outChannels, width = samples.count * p, ckk = inChannels * kernelSize * kernelSize
        BLAS.gemm(transposeB: true, m: o, n: ckk, k: width, a: chunk, aCount: o * width,
                  b: columns.data, bCount: columns.count, beta: beta, c: c.data, cCount: c.count)
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
