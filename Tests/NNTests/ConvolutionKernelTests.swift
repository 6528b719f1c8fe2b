@testable import NN
import TensorCore
import XCTest

/// The batched im2col + GEMM convolution (``Conv2d``) against a direct convolution written from
/// the definition, in Double: forward, dx, dW and db, for many shapes, strides, paddings and
/// chunkings of the batch (``Conv2d/columnBudget``).
final class ConvolutionKernelTests: XCTestCase {
    struct Case {
        var n, c, o, h, w, k, stride, padding: Int
    }

    /// Direct convolution: `y[n][o][i][j] = b[o] + sum_{c,ki,kj} W[o][c][ki][kj] x[n][c][i*s-p+ki][j*s-p+kj]`,
    /// and the gradients of `sum(y * dy)`. Each value comes with the sum of magnitudes of its terms.
    struct Direct {
        var y, dx, dW, db: [Double]
        var yScale, dxScale, dWScale, dbScale: [Double]
    }

    func direct(_ t: Case, x: [Float], weight: [Float], bias: [Float], dy: [Float]) -> Direct {
        let oh = (t.h + 2 * t.padding - t.k) / t.stride + 1, ow = (t.w + 2 * t.padding - t.k) / t.stride + 1
        var r = Direct(y: [], dx: [], dW: [], db: [], yScale: [], dxScale: [], dWScale: [], dbScale: [])
        r.y = Array(repeating: 0, count: t.n * t.o * oh * ow); r.yScale = r.y
        r.dx = Array(repeating: 0, count: x.count); r.dxScale = r.dx
        r.dW = Array(repeating: 0, count: weight.count); r.dWScale = r.dW
        r.db = Array(repeating: 0, count: t.o); r.dbScale = r.db
        for n in 0..<t.n {
            for o in 0..<t.o {
                for i in 0..<oh {
                    for j in 0..<ow {
                        let yi = ((n * t.o + o) * oh + i) * ow + j
                        let g = Double(dy[yi])
                        r.y[yi] = Double(bias[o]); r.yScale[yi] = abs(Double(bias[o]))
                        r.db[o] += g; r.dbScale[o] += abs(g)
                        for c in 0..<t.c {
                            for ki in 0..<t.k {
                                for kj in 0..<t.k {
                                    let yy = i * t.stride - t.padding + ki, xx = j * t.stride - t.padding + kj
                                    guard yy >= 0, yy < t.h, xx >= 0, xx < t.w else { continue }
                                    let xi = ((n * t.c + c) * t.h + yy) * t.w + xx
                                    let wi = ((o * t.c + c) * t.k + ki) * t.k + kj
                                    let xv = Double(x[xi]), wv = Double(weight[wi])
                                    r.y[yi] += wv * xv; r.yScale[yi] += abs(wv * xv)
                                    r.dW[wi] += g * xv; r.dWScale[wi] += abs(g * xv)
                                    r.dx[xi] += g * wv; r.dxScale[xi] += abs(g * wv)
                                }
                            }
                        }
                    }
                }
            }
        }
        return r
    }

    /// Float sums of `m` terms: error below `m` units of 2^-24 of the magnitude sum; 1e-6 per
    /// term is ~17 ulps, plenty for any summation order and still fails on a misplaced term.
    func assertClose(_ got: [Float], _ want: [Double], _ scale: [Double], terms: Int, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what, file: file, line: line)
        for i in 0..<min(got.count, want.count) {
            let tolerance = 1e-6 * Double(terms + 1) * scale[i] + 1e-12
            if abs(Double(got[i]) - want[i]) > tolerance {
                XCTFail("\(what)[\(i)] = \(got[i]), expected \(want[i]) (tolerance \(tolerance))", file: file, line: line)
                return
            }
        }
    }

    func run(_ t: Case, budget: Int, computesInputGradient: Bool = true) throws {
        var rng = RandomGenerator(seed: UInt64(t.n * 1000 + t.c * 100 + t.k * 10 + t.stride + budget))
        let conv = Conv2d(t.c, t.o, kernelSize: t.k, stride: t.stride, padding: t.padding,
                          computesInputGradient: computesInputGradient, columnBudget: budget, rng: &rng)
        let x = Tensor(Shape(t.n, t.c, t.h, t.w), (0..<(t.n * t.c * t.h * t.w)).map { _ in rng.uniform(-1, 1) })
        let y = try conv.forward(x, mode: .train)
        let dy = Tensor(y.shape, (0..<y.count).map { _ in rng.uniform(-1, 1) })
        let want = direct(t, x: x.array, weight: conv.weight.value.array, bias: conv.bias!.value.array, dy: dy.array)
        let label = "\(t) budget \(budget)"
        assertClose(y.array, want.y, want.yScale, terms: t.c * t.k * t.k, "y \(label)")
        conv.zeroGradients()
        let dx = conv.backward(dy)
        let perWeight = t.n * y.shape.spatial
        assertClose(conv.weight.gradient.array, want.dW, want.dWScale, terms: perWeight, "dW \(label)")
        assertClose(conv.bias!.gradient.array, want.db, want.dbScale, terms: perWeight, "db \(label)")
        if computesInputGradient {
            assertClose(dx.array, want.dx, want.dxScale, terms: t.o * t.k * t.k, "dx \(label)")
        } else {
            XCTAssertEqual(dx.count, 0, "no input gradient asked: an empty tensor")
        }
        // a second backward accumulates the same gradients again (columns rebuilt or reused)
        _ = conv.backward(dy)
        assertClose(conv.weight.gradient.array, want.dW.map { 2 * $0 }, want.dWScale.map { 2 * $0 },
                    terms: 2 * perWeight, "dW twice \(label)")
    }

    let cases = [
        Case(n: 1, c: 1, o: 16, h: 16, w: 16, k: 3, stride: 1, padding: 1),   // flagship conv1
        Case(n: 5, c: 16, o: 32, h: 8, w: 8, k: 3, stride: 1, padding: 1),    // flagship conv2
        Case(n: 3, c: 2, o: 3, h: 7, w: 5, k: 3, stride: 2, padding: 1),
        Case(n: 2, c: 3, o: 4, h: 6, w: 9, k: 5, stride: 2, padding: 2),
        Case(n: 4, c: 1, o: 2, h: 5, w: 5, k: 3, stride: 1, padding: 0),
        Case(n: 3, c: 2, o: 2, h: 4, w: 6, k: 1, stride: 1, padding: 0),
        Case(n: 2, c: 2, o: 3, h: 3, w: 3, k: 3, stride: 3, padding: 2),      // padding wider than a stride
        Case(n: 7, c: 3, o: 5, h: 9, w: 8, k: 4, stride: 3, padding: 1),
        Case(n: 2, c: 1, o: 1, h: 2, w: 2, k: 3, stride: 1, padding: 1),      // kernel larger than the image
        Case(n: 3, c: 2, o: 3, h: 5, w: 7, k: 5, stride: 1, padding: 2),      // "same", wide kernel
        Case(n: 2, c: 3, o: 2, h: 1, w: 6, k: 3, stride: 1, padding: 1),      // "same", one row
        Case(n: 3, c: 2, o: 4, h: 6, w: 1, k: 3, stride: 1, padding: 1),      // "same", one column
    ]

    func testMatchesDirectConvolutionForEveryChunking() throws {
        for t in cases {
            // one chunk for the whole batch, one sample per chunk, and chunks with a remainder
            let perSample = t.c * t.k * t.k * ((t.h + 2 * t.padding - t.k) / t.stride + 1) * ((t.w + 2 * t.padding - t.k) / t.stride + 1)
            for budget in [Conv2d.defaultColumnBudget, 1, 2 * perSample + perSample / 2] {
                try run(t, budget: budget)
            }
        }
    }

    func testWithoutInputGradientKeepsParameterGradients() throws {
        try run(cases[0], budget: Conv2d.defaultColumnBudget, computesInputGradient: false)
        try run(cases[2], budget: 1, computesInputGradient: false)
    }

    /// The column ranges that `Im2col` copies: every output column whose input column lies in the image.
    func testValidColumnsAgainstDefinition() {
        for width in 1...7 {
            for k in 1...4 {
                for stride in 1...3 {
                    for padding in 0...3 where width + 2 * padding >= k {
                        let ow = (width + 2 * padding - k) / stride + 1
                        for kj in 0..<k {
                            let expected = (0..<ow).filter { j in (0..<width).contains(j * stride - padding + kj) }
                            let got = Array(Im2col.validColumns(kj: kj, outputWidth: ow, width: width, stride: stride,
                                                                padding: padding))
                            XCTAssertEqual(got, expected, "width \(width) k \(k) stride \(stride) padding \(padding) kj \(kj)")
                        }
                    }
                }
            }
        }
    }
}
