/// The im2col transform and its adjoint (col2im), for one sample.
///
/// `cols[(c*K + ki)*K + kj][oh*OW + ow] = x[c][oh*stride - padding + ki][ow*stride - padding + kj]`,
/// zero outside the image. Row `r` of `cols` starts at `cols + r * rowStride`
/// (`rowStride = OH*OW` for one sample alone; `S*OH*OW` when `S` samples sit side by side,
/// this one at column offset `s*OH*OW`, see ``Conv2d``).
public enum Im2col {
    public static func outputSize(_ size: Int, kernel: Int, stride: Int, padding: Int) -> Int {
        (size + 2 * padding - kernel) / stride + 1
    }

    /// The output columns `j` of row `i` whose input column `j*stride - padding + kj` lies in
    /// `0..<width`: `lo..<hi` (empty when none).
    @inline(__always)
    static func validColumns(kj: Int, outputWidth ow: Int, width: Int, stride: Int, padding: Int) -> Range<Int> {
        // j*stride >= padding - kj  and  j*stride <= width - 1 + padding - kj
        let first = padding - kj
        let lo = first <= 0 ? 0 : (first + stride - 1) / stride
        let last = width - 1 + padding - kj
        let hi = last < 0 ? 0 : min(ow, last / stride + 1)
        return lo < hi ? lo..<hi : 0..<0
    }

    /// Whether the convolution keeps the image size (stride 1, `2*padding = kernel - 1`). Then
    /// row `(c, ki, kj)` of `cols`, read as one vector over `q = i*W + j`, is the plane shifted
    /// by `d = (ki - padding)*W + (kj - padding)`: `cols[q] = x[q + d]`, zero in the rows and
    /// columns that the shift moves out of the image. ``sameForward`` and ``sameBackward``
    /// copy it as one long run and then fix up the out-of-image columns.
    @inline(__always)
    static func isSame(height: Int, width: Int, kernel: Int, stride: Int, padding: Int) -> Bool {
        stride == 1 && 2 * padding == kernel - 1
    }

    /// For a "same" convolution: the output rows `i` whose input row `i + ki - padding` is in
    /// the image, and the range of `q` whose source `q + d` lies in the plane.
    @inline(__always)
    static func sameRanges(ki: Int, kj: Int, height: Int, width: Int, padding: Int)
        -> (rows: Range<Int>, run: Range<Int>, shift: Int) {
        let rows = max(0, padding - ki)..<max(max(0, padding - ki), min(height, height + padding - ki))
        let d = (ki - padding) * width + (kj - padding)
        let lo = min(max(rows.lowerBound * width, -d), height * width)
        let hi = min(rows.upperBound * width, height * width - d)
        return (rows, lo..<max(lo, hi), d)
    }

    /// Writes one sample's columns (`C*K*K` rows of `OH*OW` values) into `cols`.
    public static func forward(_ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                               kernel: Int, stride: Int, padding: Int, cols: UnsafeMutablePointer<Float>,
                               rowStride: Int? = nil) {
        let oh = outputSize(height, kernel: kernel, stride: stride, padding: padding)
        let ow = outputSize(width, kernel: kernel, stride: stride, padding: padding)
        let ld = rowStride ?? oh * ow
        if isSame(height: height, width: width, kernel: kernel, stride: stride, padding: padding) {
            sameForward(x, channels: channels, height: height, width: width, kernel: kernel, padding: padding,
                        cols: cols, rowStride: ld)
            return
        }
        var row = cols
        for c in 0..<channels {
            let plane = x + c * height * width
            for ki in 0..<kernel {
                for kj in 0..<kernel {
                    let valid = validColumns(kj: kj, outputWidth: ow, width: width, stride: stride, padding: padding)
                    let shift = kj - padding
                    for i in 0..<oh {
                        let y = i * stride - padding + ki
                        let dst = row + i * ow
                        guard y >= 0 && y < height && !valid.isEmpty else {
                            for j in 0..<ow { dst[j] = 0 }
                            continue
                        }
                        let src = plane + y * width
                        for j in 0..<valid.lowerBound { dst[j] = 0 }
                        if stride == 1 {
                            for j in valid { dst[j] = src[j &+ shift] }
                        } else {
                            for j in valid { dst[j] = src[j &* stride &+ shift] }
                        }
                        for j in valid.upperBound..<ow { dst[j] = 0 }
                    }
                    row += ld
                }
            }
        }
    }

    /// ``forward(_:channels:height:width:kernel:stride:padding:cols:rowStride:)`` for a "same"
    /// convolution (see ``isSame(height:width:kernel:stride:padding:)``).
    static func sameForward(_ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int, kernel: Int,
                            padding: Int, cols: UnsafeMutablePointer<Float>, rowStride ld: Int) {
        let plane = height * width
        var row = cols
        for c in 0..<channels {
            let src = x + c * plane
            for ki in 0..<kernel {
                for kj in 0..<kernel {
                    let (rows, run, d) = sameRanges(ki: ki, kj: kj, height: height, width: width, padding: padding)
                    let valid = validColumns(kj: kj, outputWidth: width, width: width, stride: 1, padding: padding)
                    for q in 0..<run.lowerBound { row[q] = 0 }
                    (row + run.lowerBound).update(from: src + (run.lowerBound + d), count: run.count)
                    for q in run.upperBound..<plane { row[q] = 0 }
                    // columns shifted out of the image (wrapped into a neighbouring row)
                    zeroColumns(row, rows: rows, width: width, keeping: valid)
                    row += ld
                }
            }
        }
    }

    /// `dx = col2im(dcols)` for one sample; OVERWRITES `inputGradient` (`C*H*W` values). The adjoint
    /// of ``forward(_:channels:height:width:kernel:stride:padding:cols:rowStride:)``: the same loops
    /// over `(c, ki, kj, i)`, each copy turned into an accumulation.
    /// `dcols` is scratch: the entries of a "same" convolution that fall outside the image
    /// (padding) are set to zero on the way.
    public static func backward(_ dcols: UnsafeMutablePointer<Float>, channels: Int, height: Int, width: Int,
                                kernel: Int, stride: Int, padding: Int, rowStride: Int? = nil,
                                inputGradient dx: UnsafeMutablePointer<Float>) {
        let oh = outputSize(height, kernel: kernel, stride: stride, padding: padding)
        let ow = outputSize(width, kernel: kernel, stride: stride, padding: padding)
        let ld = rowStride ?? oh * ow
        dx.update(repeating: 0, count: channels * height * width)
        if isSame(height: height, width: width, kernel: kernel, stride: stride, padding: padding) {
            sameBackward(dcols, channels: channels, height: height, width: width, kernel: kernel, padding: padding,
                         rowStride: ld, inputGradient: dx)
            return
        }
        var row = UnsafePointer(dcols)
        for c in 0..<channels {
            let plane = dx + c * height * width
            for ki in 0..<kernel {
                for kj in 0..<kernel {
                    let valid = validColumns(kj: kj, outputWidth: ow, width: width, stride: stride, padding: padding)
                    let shift = kj - padding
                    for i in 0..<oh {
                        let y = i * stride - padding + ki
                        if y < 0 || y >= height { continue }
                        let src = row + i * ow
                        let dst = plane + y * width
                        if stride == 1 {
                            for j in valid { dst[j &+ shift] += src[j] }
                        } else {
                            for j in valid { dst[j &* stride &+ shift] += src[j] }
                        }
                    }
                    row += ld
                }
            }
        }
    }

    /// The adjoint of ``sameForward``: `dx[q + d] += dcols[q]` over each row's run, after zeroing
    /// the entries of columns outside the image (they would land in a neighbouring row).
    static func sameBackward(_ dcols: UnsafeMutablePointer<Float>, channels: Int, height: Int, width: Int,
                             kernel: Int, padding: Int, rowStride ld: Int, inputGradient dx: UnsafeMutablePointer<Float>) {
        let plane = height * width
        var row = dcols
        for c in 0..<channels {
            let dst = dx + c * plane
            for ki in 0..<kernel {
                for kj in 0..<kernel {
                    let (rows, run, d) = sameRanges(ki: ki, kj: kj, height: height, width: width, padding: padding)
                    let valid = validColumns(kj: kj, outputWidth: width, width: width, stride: 1, padding: padding)
                    zeroColumns(row, rows: rows, width: width, keeping: valid)
                    let from = row + run.lowerBound, to = dst + (run.lowerBound + d)
                    for t in 0..<run.count { to[t] += from[t] }
                    row += ld
                }
            }
        }
    }

    /// Sets the columns outside `keeping` to zero in the given rows of a `(rows, width)` block.
    @inline(__always)
    static func zeroColumns(_ block: UnsafeMutablePointer<Float>, rows: Range<Int>, width: Int, keeping: Range<Int>) {
        let left = keeping.lowerBound, right = keeping.upperBound
        guard left > 0 || right < width else { return }
        var line = block + rows.lowerBound &* width
        for _ in rows {
            // one column each side for a 3x3 kernel: plain stores (a loop here becomes a memset call)
            if left == 1 { line[0] = 0 } else { for j in 0..<left { line[j] = 0 } }
            if right == width - 1 { line[right] = 0 } else { for j in right..<width { line[j] = 0 } }
            line += width
        }
    }
}
