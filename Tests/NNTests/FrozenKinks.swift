import NN
import TensorCore

/// A network with its kinks frozen, for finite differences through ReLU and max pooling.
///
/// A step of `h` in one parameter moves every pre-activation of a CNN a little, and in a
/// network of a few hundred units some ReLU input or max-pool runner-up is always within
/// that distance of its kink; the difference quotient then mixes two linear pieces (with
/// `h = 1e-2` this costs up to 8 % on the first conv's weights). The gradient backward
/// computes is that of the piece the point lies on: the same network with each ReLU's 0/1
/// mask and each max-pool's chosen inputs held at their values at the point. That function
/// equals the network at the point, is smooth around it, and is what ``freeze(_:at:mode:)``
/// builds; the masks and choices are computed here, independently of the layers' own code.
enum FrozenKinks {
    /// A copy of `model` in which every ``ReLU`` becomes a ``FrozenMask`` and every
    /// ``MaxPool2d`` a ``FrozenSelection`` fixed at `input`; the other layers are clones
    /// taken before any forward (their parameters and running statistics equal `model`'s).
    static func freeze(_ model: Sequential, at input: Tensor, mode: Mode) throws -> Sequential {
        var frozen: [Layer] = []
        var h = input
        for layer in model.layers {
            let replacement: Layer
            if layer is ReLU {
                replacement = FrozenMask(h.array.map { $0 > 0 ? 1 : 0 })
            } else if let pool = layer as? MaxPool2d {
                replacement = FrozenSelection(maxPoolChoicesOf: h, kernel: pool.kernelSize, stride: pool.stride)
            } else {
                replacement = layer.clone()
            }
            frozen.append(replacement)
            h = try replacement.clone().forward(h, mode: mode)  // a clone: `frozen` stays as it was
        }
        return Sequential(frozen)
    }

    /// FRN's TLU kink placed out of reach: sets `tau[c]` to the midpoint of the widest gap between
    /// channel `c`'s pre-threshold values `y` at input `x` (among the middle ones, so both branches get
    /// values) and returns the smallest distance of any `y` from its threshold.
    static func placeThresholds(_ layer: FilterResponseNorm, input x: Tensor) throws -> Float {
        let tau = layer.tau!
        tau.value.fill(-.greatestFiniteMagnitude)  // max(y, tau) = y: the response itself
        let y = try layer.clone().forward(x, mode: .train).array
        let channels = x.shape.channels, hw = x.shape.spatial
        var margin = Float.infinity
        for c in 0..<channels {
            var values: [Float] = []
            for n in 0..<x.shape.batch { values += y[((n * channels + c) * hw)..<((n * channels + c + 1) * hw)] }
            values.sort()
            let middle = (values.count / 4)..<(3 * values.count / 4)
            let k = middle.max { values[$0 + 1] - values[$0] < values[$1 + 1] - values[$1] }!
            tau.value.data[c] = (values[k] + values[k + 1]) / 2
            margin = min(margin, (values[k + 1] - values[k]) / 2)
        }
        return margin
    }
}

/// `y = x * mask` with a fixed 0/1 mask: a ReLU whose pattern cannot change.
final class FrozenMask: Layer {
    let mask: [Float]
    private let output = Tensor()
    private let inputGradient = Tensor()

    init(_ mask: [Float]) { self.mask = mask }
    var name: String { "FrozenMask" }
    func clone() -> FrozenMask { FrozenMask(mask) }

    func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        precondition(x.count == mask.count, "FrozenMask: \(mask.count) mask values for input \(x.shape)")
        output.resize(to: x.shape)
        for i in 0..<x.count { output.data[i] = x.data[i] * mask[i] }
        return output
    }

    func backward(_ dy: Tensor) -> Tensor {
        inputGradient.resize(to: dy.shape)
        for i in 0..<dy.count { inputGradient.data[i] = dy.data[i] * mask[i] }
        return inputGradient
    }
}

/// `y[o] = x[source[o]]` with fixed source indices: a max pool whose winners cannot change.
final class FrozenSelection: Layer {
    let source: [Int]
    let inputShape: Shape
    let outputShape: Shape
    private let output = Tensor()
    private let inputGradient = Tensor()

    init(source: [Int], inputShape: Shape, outputShape: Shape) {
        self.source = source
        self.inputShape = inputShape
        self.outputShape = outputShape
    }

    /// The winners of `MaxPool2d(kernel, stride)` on `x` (N, C, H, W): per window the first
    /// largest value in row-major window order, as PyTorch picks it.
    convenience init(maxPoolChoicesOf x: Tensor, kernel: Int, stride: Int) {
        let h = x.shape[2], w = x.shape[3]
        let oh = (h - kernel) / stride + 1, ow = (w - kernel) / stride + 1
        var source: [Int] = []
        for plane in 0..<(x.shape.batch * x.shape.channels) {
            for i in 0..<oh {
                for j in 0..<ow {
                    var best = plane * h * w + (i * stride) * w + j * stride
                    for ki in 0..<kernel {
                        for kj in 0..<kernel {
                            let index = plane * h * w + (i * stride + ki) * w + j * stride + kj
                            if x.data[index] > x.data[best] { best = index }
                        }
                    }
                    source.append(best)
                }
            }
        }
        self.init(source: source, inputShape: x.shape,
                  outputShape: Shape(x.shape.batch, x.shape.channels, oh, ow))
    }

    var name: String { "FrozenSelection" }
    func clone() -> FrozenSelection { FrozenSelection(source: source, inputShape: inputShape, outputShape: outputShape) }

    func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        precondition(x.shape == inputShape, "FrozenSelection: input \(x.shape), expected \(inputShape)")
        output.resize(to: outputShape)
        for o in 0..<source.count { output.data[o] = x.data[source[o]] }
        return output
    }

    func backward(_ dy: Tensor) -> Tensor {
        inputGradient.resize(to: inputShape)
        inputGradient.fill(0)
        for o in 0..<source.count { inputGradient.data[source[o]] += dy.data[o] }
        return inputGradient
    }
}
