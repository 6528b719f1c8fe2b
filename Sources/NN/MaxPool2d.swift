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
        if kernelSize == 2 && stride == 2 {
            MaxPool2d.forward2x2(x.data, output.data, argmax, planes: planes, height: h, width: w)
        } else {
            MaxPool2d.forwardReference(x.data, output.data, argmax, planes: planes, height: h, width: w,
                                       kernel: kernelSize, stride: stride)
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

    /// ``forwardReference(_:_:_:planes:height:width:kernel:stride:)`` for `kernel = stride = 2`, without branches: the first maximum of
    /// `(a, b, c, d)` = `x[2i][2j], x[2i][2j+1], x[2i+1][2j], x[2i+1][2j+1]`, a NaN winning at
    /// its first occurrence (a later value replaces the best when `v > best`, or when `v` is
    /// NaN and the best is not). Eight outputs at a time where a row has eight.
    static func forward2x2(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           _ argmax: UnsafeMutablePointer<Int32>, planes: Int, height h: Int, width w: Int) {
        let oh = h / 2, ow = w / 2
        let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
        let down = SIMD8<Int32>(repeating: Int32(w))
        for plane in 0..<planes {
            let src = x + plane * h * w, dst = y + plane * oh * ow, arg = argmax + plane * oh * ow
            for i in 0..<oh {
                let top = src + 2 * i * w, bottom = top + w
                let outRow = dst + i * ow, argRow = arg + i * ow
                var j = 0
                while j + 8 <= ow {
                    let upper = UnsafeRawPointer(top + 2 * j).loadUnaligned(as: SIMD16<Float>.self)
                    let lower = UnsafeRawPointer(bottom + 2 * j).loadUnaligned(as: SIMD16<Float>.self)
                    let first = SIMD8<Int32>(repeating: Int32(2 * i * w + 2 * j)) &+ lanes
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
                    j += 8
                }
                if j + 4 <= ow {  // the same with four lanes (rows of 4 to 7 outputs)
                    let upper = UnsafeRawPointer(top + 2 * j).loadUnaligned(as: SIMD8<Float>.self)
                    let lower = UnsafeRawPointer(bottom + 2 * j).loadUnaligned(as: SIMD8<Float>.self)
                    let first = SIMD4<Int32>(repeating: Int32(2 * i * w + 2 * j)) &+ lanes.lowHalf
                    var best = upper.evenHalf, index = first
                    @inline(__always) func consider(_ v: SIMD4<Float>, _ candidate: SIMD4<Int32>) {
                        let take = (v .> best) .| ((v .!= v) .& (best .== best))
                        best.replace(with: v, where: take)
                        index.replace(with: candidate, where: take)
                    }
                    consider(upper.oddHalf, first &+ 1)
                    consider(lower.evenHalf, first &+ down.lowHalf)
                    consider(lower.oddHalf, first &+ down.lowHalf &+ 1)
                    UnsafeMutableRawPointer(outRow + j).storeBytes(of: best, as: SIMD4<Float>.self)
                    UnsafeMutableRawPointer(argRow + j).storeBytes(of: index, as: SIMD4<Int32>.self)
                    j += 4
                }
                while j < ow {
                    let at = 2 * i * w + 2 * j
                    var best = top[2 * j], index = at
                    @inline(__always) func consider(_ v: Float, _ candidate: Int) {
                        // the SIMD rule with all-ones / all-zeros masks, so no branch mispredicts
                        let take = bit(v > best) | (bit(v.isNaN) & ~bit(best.isNaN))
                        let mask = 0 &- take, wide = 0 &- Int(take)
                        best = Float(bitPattern: (v.bitPattern & mask) | (best.bitPattern & ~mask))
                        index = (candidate & wide) | (index & ~wide)
                    }
                    consider(top[2 * j + 1], at &+ 1)
                    consider(bottom[2 * j], at &+ w)
                    consider(bottom[2 * j + 1], at &+ w &+ 1)
                    outRow[j] = best
                    argRow[j] = Int32(truncatingIfNeeded: index)
                    j += 1
                }
            }
        }
    }

    /// 1 for true, 0 for false, without a branch.
    @inline(__always)
    private static func bit(_ b: Bool) -> UInt32 { UInt32(unsafeBitCast(b, to: UInt8.self)) }

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
