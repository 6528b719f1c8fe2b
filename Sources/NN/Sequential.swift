import TensorCore

/// Layers applied in order, as `torch.nn.Sequential`; backward runs them in reverse.
public final class Sequential: StateSharingLayer {
    public let layers: [Layer]

    public init(_ layers: [Layer]) { self.layers = layers }

    public var name: String { "Sequential(" + layers.map(\.name).joined(separator: ", ") + ")" }
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var children: [Layer] { layers }
    /// A deep copy; state shared between layers (``SharedBatchNormSite``) is copied once and shared
    /// within the copy.
    public func clone() -> Sequential {
        var copies: [ObjectIdentifier: AnyObject] = [:]
        return clone(sharing: &copies)
    }

    public func clone(sharing copies: inout [ObjectIdentifier: AnyObject]) -> Sequential {
        Sequential(layers.map { layer -> Layer in
            if let sharing = layer as? StateSharingLayer { return sharing.clone(sharing: &copies) }
            return layer.clone()
        })
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        var h = x
        for layer in layers { h = try layer.forward(h, mode: mode) }
        return h
    }

    /// Runs each layer's backward in reverse order. Stops after a layer that does not
    /// compute its input gradient (nothing below it needs one) and returns its empty tensor.
    public func backward(_ dy: Tensor) -> Tensor {
        var g = dy
        for layer in layers.reversed() {
            g = layer.backward(g)
            if !layer.computesInputGradient { return g }
        }
        return g
    }

    /// Whether `backward` returns dLoss/dInput: only if every layer computes its own.
    public var computesInputGradient: Bool { layers.allSatisfy(\.computesInputGradient) }

    /// Every layer with running statistics, in order (BatchNorm, Batch Renormalization); a shared
    /// BatchNorm module once per site (``SharedBatchNormSite``).
    public var runningStatisticsLayers: [RunningStatisticsLayer] {
        allLayers.compactMap { $0 as? RunningStatisticsLayer }
    }

    /// Every Dropout layer, in order.
    public var dropoutLayers: [Dropout] { allLayers.compactMap { $0 as? Dropout } }
}
