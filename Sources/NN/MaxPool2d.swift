import TensorCore

/// Max pooling, as `torch.nn.MaxPool2d(kernel, stride)` (padding 0, floor mode).
///
/// Shapes: `x (N, C, H, W) -> y (N, C, OH, OW)`, `OH = (H - K) / S + 1` (``PoolingWindow``).
/// Ties keep the first maximum in row-major window order and NaN propagates,
/// as PyTorch's CPU kernel does (`val > max || isnan(val)`).
/// Forward keeps the argmax of each output (an index into its input plane). Planes are independent,
/// so blocks of them run on the forward's threads (`mode.threads`) with the bits of one thread.
public final class MaxPool2d: Layer {
    public let kernelSize: Int
    public let stride: Int

    private var inputShape = Shape(0)
    private let output = Tensor()
    private var argmax: UnsafeMutablePointer<Int32>
    private var argmaxCapacity = 0
    private let inputGradient = Tensor()
    private var threads = ComputeThreads.serial

    public init(kernelSize: Int, stride: Int? = nil) {
        self.kernelSize = kernelSize
        self.stride = PoolingWindow.stride(stride, kernelSize: kernelSize, layer: "MaxPool2d")
        argmax = .allocate(capacity: 1)
    }

    deinit { argmax.deallocate() }

    public var name: String { "MaxPool2d(k\(kernelSize), s\(stride))" }
    public func clone() -> MaxPool2d { MaxPool2d(kernelSize: kernelSize, stride: stride) }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        output.resize(to: try PoolingWindow.outputShape(of: x.shape, kernelSize: kernelSize, stride: stride, layer: name))
        inputShape = x.shape
        let h = x.shape[2], w = x.shape[3]
        let planes = x.shape.batch * x.shape.channels
        if output.count > argmaxCapacity {
            argmax.deallocate()
            argmaxCapacity = output.count
            argmax = .allocate(capacity: argmaxCapacity)
        }
        threads = mode.threads
        let (src, dst, arg, ohw) = (UnsafePointer(x.data), output.data, argmax, output.shape.spatial)
        let (kernel, stride) = (kernelSize, self.stride)
        threads.forEachBlock(planes, work: x.count) { block in
            let (input, out, index) = (src + block.lowerBound * h * w, dst + block.lowerBound * ohw, arg + block.lowerBound * ohw)
            if kernel == 2 && stride == 2 {
                MaxPool2d.forward2x2(input, out, index, planes: block.count, height: h, width: w)
            } else {
                MaxPool2d.forwardReference(input, out, index, planes: block.count, height: h, width: w,
                                           kernel: kernel, stride: stride)
            }
        }
        return output
    }

    /// The plain loop, for any kernel and stride: scans each window in row-major order and
    /// keeps `v` when `v > best || v.isNaN` (stopping at a NaN). Tests hold ``forward2x2`` to it.
    static func forwardReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                 _ argmax: UnsafeMutablePointer<Int32>, planes: Int, height h: Int, width w: Int,
                                 kernel: Int, stride: Int) {
        let oh = (h - kernel) / stride + 1, ow = (w - kernel) / stride + 1
        for plane in 0..<planes {
            let src = x + plane * h * w
            let dst = y + plane * oh * ow
            let arg = argmax + plane * oh * ow
            for i in 0..<oh {
                for j in 0..<ow {
                    var best = -Float.infinity
                    var bestIndex = (i * stride) * w + j * stride
                    for ki in 0..<kernel {
                        let rowStart = (i * stride + ki) * w + j * stride
                        for kj in 0..<kernel {
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
    }

    /// ``forwardReference(_:_:_:planes:height:width:kernel:stride:)`` for `kernel = stride = 2`,
    /// without branches: the first maximum of `(a, b, c, d)` = `x[2i][2j], x[2i][2j+1],
    /// x[2i+1][2j], x[2i+1][2j+1]`, a NaN winning at its first occurrence (a later value
    /// replaces the best when `v > best`, or when `v` is NaN and the best is not).
    /// Eight (or four) outputs at a time; a row's last block overlaps the one before it
    /// rather than falling back to scalar code (recomputing an output gives the same value).
    static func forward2x2(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           _ argmax: UnsafeMutablePointer<Int32>, planes: Int, height h: Int, width w: Int) {
        let oh = h / 2, ow = w / 2
        for plane in 0..<planes {
            let src = x + plane * h * w, dst = y + plane * oh * ow, arg = argmax + plane * oh * ow
            for i in 0..<oh {
                let top = src + 2 * i * w, outRow = dst + i * ow, argRow = arg + i * ow
                let rowStart = Int32(truncatingIfNeeded: 2 * i * w)
                if ow >= 8 {
                    var j = 0
                    while j < ow {
                        pool8(top, width: w, at: min(j, ow - 8), rowStart: rowStart, outRow, argRow)
                        j += 8
                    }
                } else if ow >= 4 {
                    pool4(top, width: w, at: 0, rowStart: rowStart, outRow, argRow)
                    if ow > 4 { pool4(top, width: w, at: ow - 4, rowStart: rowStart, outRow, argRow) }
                } else {
                    for j in 0..<ow { pool1(top, width: w, at: j, rowStart: rowStart, outRow, argRow) }
                }
            }
        }
    }

    /// Outputs `j..<j+8` of a row whose window rows start at `top` and `top + width`.
    @inline(__always)
    private static func pool8(_ top: UnsafePointer<Float>, width w: Int, at j: Int, rowStart: Int32,
                              _ outRow: UnsafeMutablePointer<Float>, _ argRow: UnsafeMutablePointer<Int32>) {
        let upper = UnsafeRawPointer(top + 2 * j).loadUnaligned(as: SIMD16<Float>.self)
        let lower = UnsafeRawPointer(top + w + 2 * j).loadUnaligned(as: SIMD16<Float>.self)
        let first = SIMD8<Int32>(repeating: rowStart &+ Int32(truncatingIfNeeded: 2 * j))
            &+ SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
        let down = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: w))
        var best = upper.evenHalf, index = first
        @inline(__always) func consider(_ v: SIMD8<Float>, _ candidate: SIMD8<Int32>) {
            let take = (v .> best) .| ((v .!= v) .& (best .== best))
            best.replace(with: v, where: take)
            index.replace(with: candidate, where: take)
        }
        consider(upper.oddHalf, first &+ 1)
        consider(lower.evenHalf, first &+ down)
        consider(lower.oddHalf, first &+ down &+ 1)
        UnsafeMutableRawPointer(outRow + j).storeBytes(of: best, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(argRow + j).storeBytes(of: index, as: SIMD8<Int32>.self)
    }

    /// ``pool8(_:width:at:rowStart:_:_:)`` with four lanes. Written out, not generic over the lane
    /// count: in a function generic over `SIMD` the comparisons and selects are the protocol's
    /// per-lane code, not the vector instructions (measured, `swiftc -O`: 2048 planes of 32 x 32 in
    /// 43 ms instead of 0.9 ms).
    @inline(__always)
    private static func pool4(_ top: UnsafePointer<Float>, width w: Int, at j: Int, rowStart: Int32,
                              _ outRow: UnsafeMutablePointer<Float>, _ argRow: UnsafeMutablePointer<Int32>) {
        let upper = UnsafeRawPointer(top + 2 * j).loadUnaligned(as: SIMD8<Float>.self)
        let lower = UnsafeRawPointer(top + w + 2 * j).loadUnaligned(as: SIMD8<Float>.self)
        let first = SIMD4<Int32>(repeating: rowStart &+ Int32(truncatingIfNeeded: 2 * j)) &+ SIMD4<Int32>(0, 2, 4, 6)
        let down = SIMD4<Int32>(repeating: Int32(truncatingIfNeeded: w))
        var best = upper.evenHalf, index = first
        @inline(__always) func consider(_ v: SIMD4<Float>, _ candidate: SIMD4<Int32>) {
            let take = (v .> best) .| ((v .!= v) .& (best .== best))
            best.replace(with: v, where: take)
            index.replace(with: candidate, where: take)
        }
        consider(upper.oddHalf, first &+ 1)
        consider(lower.evenHalf, first &+ down)
        consider(lower.oddHalf, first &+ down &+ 1)
        UnsafeMutableRawPointer(outRow + j).storeBytes(of: best, as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(argRow + j).storeBytes(of: index, as: SIMD4<Int32>.self)
    }

    /// One output, with all-ones / all-zeros masks so that no branch mispredicts.
    @inline(__always)
    private static func pool1(_ top: UnsafePointer<Float>, width w: Int, at j: Int, rowStart: Int32,
                              _ outRow: UnsafeMutablePointer<Float>, _ argRow: UnsafeMutablePointer<Int32>) {
        let at = rowStart &+ Int32(truncatingIfNeeded: 2 * j)
        var best = top[2 * j], index = at
        @inline(__always) func consider(_ v: Float, _ candidate: Int32) {
            let take = bit(v > best) | (bit(v.isNaN) & ~bit(best.isNaN))
            let mask = 0 &- take
            best = Float(bitPattern: (v.bitPattern & mask) | (best.bitPattern & ~mask))
            index = Int32(bitPattern: (UInt32(bitPattern: candidate) & mask) | (UInt32(bitPattern: index) & ~mask))
        }
        let wide = Int32(truncatingIfNeeded: w)
        consider(top[2 * j + 1], at &+ 1)
        consider(top[w + 2 * j], at &+ wide)
        consider(top[w + 2 * j + 1], at &+ wide &+ 1)
        outRow[j] = best
        argRow[j] = index
    }

    /// 1 for true, 0 for false, without a branch.
    @inline(__always)
    private static func bit(_ b: Bool) -> UInt32 { UInt32(unsafeBitCast(b, to: UInt8.self)) }

    /// `dx[argmax] += dy`.
    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.shape == output.shape, "\(name): gradient \(dy.shape) does not match output \(output.shape)")
        inputGradient.resize(to: inputShape)
        let hw = inputShape.spatial, ohw = output.shape.spatial
        let (gradient, outputGradient, argmax) = (inputGradient.data, UnsafePointer(dy.data), UnsafePointer(argmax))
        threads.forEachBlock(inputShape.batch * inputShape.channels, work: inputShape.count) { block in
            (gradient + block.lowerBound * hw).update(repeating: 0, count: block.count * hw)
            for plane in block {
                let dx = gradient + plane * hw
                let g = outputGradient + plane * ohw
                let arg = argmax + plane * ohw
                for o in 0..<ohw { dx[Int(arg[o])] += g[o] }
            }
        }
        return inputGradient
    }
}
