import TensorCore

/// Layers applied in order, as `torch.nn.Sequential`; backward runs them in reverse.
///
/// Its children are named by position (`0`, `1`, ...), as `nn.Sequential(*layers)` names them, or
/// by the names given to ``init(named:)``, as `nn.Sequential(OrderedDict(...))` does (the residual
/// network: `conv1`, `bn1`, `layer1`, `fc`); the names are the state-dict keys' (``StateDictEntry``).
/// A container given the empty name is not a module of the twin: its named children are listed in its
/// place (a ``ConvCrossIterationBatchNorm`` stem: `conv1` and `bn1`, as mmdet's ResNet holds them).
public final class Sequential: StateSharingLayer {
    public let layers: [Layer]
    /// The attribute names of ``layers``, nil for positions.
    public let layerNames: [String]?

    public init(_ layers: [Layer]) {
        self.layers = layers
        layerNames = nil
    }

    /// Named layers, in order; the names must not contain `.`, and must be distinct once every
    /// container named "" is replaced by its named children (only a container may be named "").
    public init(named entries: [(name: String, layer: Layer)]) {
        precondition(entries.allSatisfy { !$0.name.isEmpty || !$0.layer.children.isEmpty },
                     "Sequential: only a container may have the empty name, got \(entries.map(\.name))")
        layers = entries.map(\.layer)
        layerNames = entries.map(\.name)
        let names = namedChildren.map(\.name)
        precondition(Set(names).count == names.count && names.allSatisfy { !$0.isEmpty && !$0.contains(".") },
                     "Sequential: names must be distinct, non-empty and without '.', got \(names)")
    }

    public var name: String { "Sequential(" + layers.map(\.name).joined(separator: ", ") + ")" }
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var children: [Layer] { layers }
    public var namedChildren: [(name: String, layer: Layer)] {
        guard let layerNames else { return layers.enumerated().map { ("\($0)", $1) } }
        return zip(layerNames, layers).flatMap { name, layer in name.isEmpty ? layer.namedChildren : [(name, layer)] }
    }

    /// A deep copy; state shared between layers (``SharedBatchNormSite``) is copied once and shared
    /// within the copy.
    public func clone() -> Sequential {
        var copies: [ObjectIdentifier: AnyObject] = [:]
        return clone(sharing: &copies)
    }

    public func clone(sharing copies: inout [ObjectIdentifier: AnyObject]) -> Sequential {
        let cloned = layers.map { layer -> Layer in
            if let sharing = layer as? StateSharingLayer { return sharing.clone(sharing: &copies) }
            return layer.clone()
        }
        guard let layerNames else { return Sequential(cloned) }
        return Sequential(named: Array(zip(layerNames, cloned)))
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
    /// residual blocks: depth first, in PyTorch's `modules()` order; a shared BatchNorm module once per
    /// site (``SharedBatchNormSite``).
    public var runningStatisticsLayers: [RunningStatisticsLayer] {
        allLayers.compactMap { $0 as? RunningStatisticsLayer }
    }

    /// The last layer when it is a ``Linear``: the classifier (every model bnlab builds ends in one), the
    /// only layer that fine-tuning with frozen features trains.
    public var classifier: Linear? { layers.last as? Linear }

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
