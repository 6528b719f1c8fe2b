import TensorCore

/// Layers applied in order, as `torch.nn.Sequential`; backward runs them in reverse.
///
/// Its children are named by position (`0`, `1`, ...), as `nn.Sequential(*layers)` names them, or
/// by the names given to ``init(named:)``, as `nn.Sequential(OrderedDict(...))` does (the residual
/// network: `conv1`, `bn1`, `layer1`, `fc`); the names are the state-dict keys' (``StateDictEntry``).
public final class Sequential: Layer {
    public let layers: [Layer]
    /// The attribute names of ``layers``, nil for positions.
    public let layerNames: [String]?

    public init(_ layers: [Layer]) {
        self.layers = layers
        layerNames = nil
    }

    /// Named layers, in order; the names must be distinct and must not contain `.`.
    public init(named entries: [(name: String, layer: Layer)]) {
        let names = entries.map(\.name)
        precondition(Set(names).count == names.count && names.allSatisfy { !$0.isEmpty && !$0.contains(".") },
                     "Sequential: names must be distinct, non-empty and without '.', got \(names)")
        layers = entries.map(\.layer)
        layerNames = names
    }

    public var name: String { "Sequential(" + layers.map(\.name).joined(separator: ", ") + ")" }
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var children: [Layer] { layers }
    public var namedChildren: [(name: String, layer: Layer)] {
        guard let layerNames else { return layers.enumerated().map { ("\($0)", $1) } }
        return Array(zip(layerNames, layers))
    }

    public func clone() -> Sequential {
        guard let layerNames else { return Sequential(layers.map { $0.clone() }) }
        return Sequential(named: zip(layerNames, layers).map { ($0, $1.clone()) })
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        var h = x
        for layer in layers { h = try layer.forward(h, mode: mode) }
        return h
    }

    public func forward(_ x: Tensor, mode: Mode, observingLeaves observe: (Layer, Tensor) throws -> Void) throws -> Tensor {
        var h = x
        for layer in layers { h = try layer.forward(h, mode: mode, observingLeaves: observe) }
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

    /// Every layer with running statistics, in order (BatchNorm, Batch Renormalization), also inside
    /// residual blocks: depth first, in PyTorch's `modules()` order.
    public var runningStatisticsLayers: [RunningStatisticsLayer] {
        allLayers.compactMap { $0 as? RunningStatisticsLayer }
    }

    /// Every Dropout layer, in order.
    public var dropoutLayers: [Dropout] { allLayers.compactMap { $0 as? Dropout } }

    /// Every layer that draws random numbers in train mode (Dropout, DropPath), in order.
    public var stochasticLayers: [StochasticLayer] { allLayers.compactMap { $0 as? StochasticLayer } }

    /// Every Dropout layer with its module path, as `named_modules()` writes it (`9`, `dropout`).
    public var namedDropoutLayers: [(path: String, layer: Dropout)] {
        func walk(_ layer: Layer, _ path: String) -> [(path: String, layer: Dropout)] {
            if let d = layer as? Dropout { return [(path, d)] }
            return layer.namedChildren.flatMap { walk($0.layer, path.isEmpty ? $0.name : "\(path).\($0.name)") }
        }
        return walk(self, "")
    }
}
