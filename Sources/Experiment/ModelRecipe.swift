import SpecFormat
import NN
import TensorCore

/// Everything needed to build a model, resolved from a spec cell.
public struct ModelRecipe: Hashable, Sendable {
    public var architecture: ModelArchitecture
    public var activation: Activation
    public var norm: NormKind
    public var groups: Int
    public var momentum: BNMomentum
    public var trackRunningStats: Bool
    public var ghostBatchSize: Int?
    public var eps: Float
    public var dropout: Float
    public var renormLimits: BatchRenorm.Limits

    public init(architecture: ModelArchitecture, activation: Activation = .relu, norm: NormKind = .batch, groups: Int = 8,
                momentum: BNMomentum = .exponential(0.1), trackRunningStats: Bool = true,
                ghostBatchSize: Int? = nil, eps: Float = 1e-5, dropout: Float = 0,
                renormLimits: BatchRenorm.Limits = BatchRenorm.Limits()) {
        self.architecture = architecture; self.activation = activation; self.norm = norm; self.groups = groups; self.momentum = momentum
        self.trackRunningStats = trackRunningStats; self.ghostBatchSize = ghostBatchSize; self.eps = eps
        self.dropout = dropout; self.renormLimits = renormLimits
    }

    /// Builds the model for samples of `(channels, height, width)` and `classes` outputs.
    /// Initialization draws from `rng` (PyTorch's default init); dropout streams derive from it.
    public func build(channels: Int, height: Int, width: Int, classes: Int, rng: RandomGenerator) throws -> Sequential {
        var initRNG = rng.derived("init")
        var dropoutIndex = 0
        func dropoutLayer() throws -> Layer? {
            guard dropout > 0 else { return nil }
            dropoutIndex += 1
            return try Dropout(p: dropout, rng: rng.derived("dropout-\(dropoutIndex)"))
        }
        func normLayer(_ c: Int, sample: Shape) throws -> Layer? {
            switch norm {
            case .batch:
                return BatchNorm(c, eps: eps, momentum: momentum, trackRunningStats: trackRunningStats,
                                 ghostBatchSize: ghostBatchSize)
            case .batchrenorm: return BatchRenorm(c, eps: eps, momentum: momentum, limits: renormLimits)
            case .group: return try GroupNorm(groups: groups, channels: c, eps: eps)
            case .layer: return LayerNorm(sampleShape: sample, eps: eps)
            case .none: return nil
            case .fixup: throw LayerError(layer: "model", "norm fixup needs model resnet")
            }
        }
        // Nothing upstream of the first weight layer needs dLoss/dInput (as in PyTorch,
        // where the input does not require a gradient): it skips computing it.
        var weightLayers = 0
        func computesInputGradient() -> Bool {
            weightLayers += 1
            return weightLayers > 1
        }
        var layers: [Layer] = []
        switch architecture {
        case .cnn(let widths, let kernel):
            var c = channels, h = height, w = width
            for out in widths {
                let conv = Conv2d(c, out, kernelSize: kernel, padding: kernel / 2,
                                  computesInputGradient: computesInputGradient(), rng: &initRNG)
                h = conv.outputSize(h); w = conv.outputSize(w)
                layers.append(conv)
                if let n = try normLayer(out, sample: Shape(1, out, h, w)) { layers.append(n) }
                layers.append(activation.makeLayer())
                guard h >= 2 && w >= 2 else {
                    throw LayerError(layer: "model", "\(widths.count) pooling stages shrink \(height)x\(width) input below 1x1")
                }
                layers.append(MaxPool2d(kernelSize: 2))
                h /= 2; w /= 2; c = out
            }
            layers.append(Flatten())
            if let d = try dropoutLayer() { layers.append(d) }
            layers.append(Linear(c * h * w, classes, computesInputGradient: computesInputGradient(), rng: &initRNG))
        case .mlp(let widths):
            layers.append(Flatten())
            var inFeatures = channels * height * width
            for out in widths {
                layers.append(Linear(inFeatures, out, computesInputGradient: computesInputGradient(), rng: &initRNG))
                if let n = try normLayer(out, sample: Shape(1, out)) { layers.append(n) }
                layers.append(activation.makeLayer())
                if let d = try dropoutLayer() { layers.append(d) }
                inFeatures = out
            }
            layers.append(Linear(inFeatures, classes, computesInputGradient: computesInputGradient(), rng: &initRNG))
        case let .resnet(blocks, widths, stem) where norm == .fixup:
            return try ResidualNetwork.makeFixup(channels: channels, height: height, width: width, classes: classes,
                                                 blocks: blocks, widths: widths, stem: stem, activation: activation.makeLayer,
                                                 dropout: try dropoutLayer(), rng: &initRNG)
        case let .resnet(blocks, widths, stem):
            return try ResidualNetwork.make(channels: channels, height: height, width: width, classes: classes,
                                            blocks: blocks, widths: widths, stem: stem,
                                            norm: { try normLayer($0, sample: $1) }, activation: activation.makeLayer,
                                            dropout: try dropoutLayer(), rng: &initRNG)
        }
        return Sequential(layers)
    }
}
