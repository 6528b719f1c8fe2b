import TensorCore

/// `y = max(x, 0)`; `dx = dy` where `x > 0`, else 0 (PyTorch's subgradient at 0 is 0).
/// Forward keeps a reference to its output (the mask is `y > 0`).
public final class ReLU: Layer {
    private let output = Tensor()
    private let inputGradient = Tensor()

    public init() {}
    public var name: String { "ReLU" }
    public func clone() -> ReLU { ReLU() }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        output.resize(to: x.shape)
        let src = x.data, dst = output.data, count = x.count
        var i = 0
        while i + 8 <= count {  // eight at a time, as `x > 0 ? x : 0` (NaN -> 0)
            let v = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: v.replacing(with: 0, where: .!(v .> 0)),
                                                        as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { dst[i] = src[i] > 0 ? src[i] : 0; i += 1 }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.shape == output.shape, "ReLU: gradient \(dy.shape) does not match output \(output.shape)")
        inputGradient.resize(to: dy.shape)
        let y = output.data, g = dy.data, dx = inputGradient.data, count = dy.count
        var i = 0
        while i + 8 <= count {  // eight at a time, as `y > 0 ? dy : 0`
            let v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            let d = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(dx + i).storeBytes(of: d.replacing(with: 0, where: .!(v .> 0)),
                                                       as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { dx[i] = y[i] > 0 ? g[i] : 0; i += 1 }
        return inputGradient
    }
}
