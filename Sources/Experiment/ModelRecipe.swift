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
    public var dropoutConvention: DropoutConvention
    /// The functional-dropout bug: every Dropout active in eval mode too.
    public var dropoutInEval: Bool
    /// Stochastic depth's `drop_path_rate` (resnet): ``DropPath/linearDecayRates(_:blocks:)`` per block.
    public var dropPathRate: Float
    public var renormLimits: BatchRenorm.Limits
    public var mabn: MABNSettings
    public var cbn: CBNSettings
    /// Whether the two blocks of ``ModelArchitecture/sharedNormalizationBlocks`` share one BatchNorm
    /// module (``SharedBatchNormSite``; norm batch).
    public var sharedBN: SharedBatchNormSetting
    /// Simulated data-parallel devices (``DataParallelBatchNorm``, norm batch); 1 = BatchNorm.
    public var devices: Int
    /// The running statistics of a multi-device BatchNorm.
    public var deviceBN: DeviceBatchNormPolicy

    public init(architecture: ModelArchitecture, activation: Activation = .relu, norm: NormKind = .batch, groups: Int = 8,
                momentum: BNMomentum = .exponential(0.1), trackRunningStats: Bool = true,
                ghostBatchSize: Int? = nil, eps: Float = 1e-5, dropout: Float = 0,
                dropoutConvention: DropoutConvention = .inverted, dropoutInEval: Bool = false, dropPathRate: Float = 0,
                renormLimits: BatchRenorm.Limits = BatchRenorm.Limits(), mabn: MABNSettings = MABNSettings(),
                cbn: CBNSettings = CBNSettings(), sharedBN: SharedBatchNormSetting = .off,
                devices: Int = 1, deviceBN: DeviceBatchNormPolicy = .rank0) {
        self.architecture = architecture; self.activation = activation; self.norm = norm; self.groups = groups
        self.momentum = momentum
        self.trackRunningStats = trackRunningStats; self.ghostBatchSize = ghostBatchSize; self.eps = eps
        self.dropout = dropout; self.dropoutConvention = dropoutConvention; self.dropoutInEval = dropoutInEval
        self.dropPathRate = dropPathRate; self.renormLimits = renormLimits; self.mabn = mabn
        self.cbn = cbn; self.sharedBN = sharedBN
        self.devices = devices; self.deviceBN = deviceBN
    }

    /// Builds the model for samples of `(channels, height, width)` and `classes` outputs.
    /// Initialization draws from `rng` (PyTorch's default init); dropout streams derive from it.
    /// With `drop_path` > 0 (resnet) block `i` of `L` gets a ``DropPath`` of rate `drop_path * i / (L - 1)`
    /// (timm's rule; none where it is 0) with its own stream. With `norm mabn` every conv before the norm is MABN.py's `CenConv2d(bias=False)`: centred
    /// weights and no bias, as the authors' ResNet builds it (cls/networks/resnet.py); the mlp
    /// refuses mabn (MABN2d is 2-d only). With `norm cbn` each conv (without bias, as the authors'
    /// ResNet has it) and its norm are one ``ConvCrossIterationBatchNorm``, which hands the norm its
    /// conv; the mlp refuses cbn. With `model resnet` the network places each norm as
    /// ``ResidualNetwork`` says (the normalization-activation layers with and without their
    /// nonlinearity, timm's `apply_act`).
    public func build(channels: Int, height: Int, width: Int, classes: Int, rng: RandomGenerator) throws -> Sequential {
        var initRNG = rng.derived("init")
        var dropoutIndex = 0
        func dropoutLayer() throws -> Layer? {
            guard dropout > 0 else { return nil }
            dropoutIndex += 1
            return try Dropout(p: dropout, rng: rng.derived("dropout-\(dropoutIndex)"), convention: dropoutConvention,
                               activeInEval: dropoutInEval)
        }
        // shared_bn: the two sites of one module, handed to their blocks below.
        var sharedSites: [Int: SharedBatchNormSite] = [:]
        if let sharing = sharedBN.sharing {
            guard norm == .batch, let blocks = architecture.sharedNormalizationBlocks else {
                throw LayerError(layer: "model", "shared_bn \(sharedBN.rawValue) needs norm batch and two blocks of one width")
            }
            let sites = SharedBatchNormSite.sites(2, numFeatures: architecture.featureCounts[blocks.first], eps: eps,
                                                  momentum: momentum, trackRunningStats: trackRunningStats,
                                                  ghostBatchSize: ghostBatchSize, sharing: sharing)
            sharedSites = [blocks.first: sites[0], blocks.second: sites[1]]
        }
        /// The norm of `c` channels for inputs of `sample`; `block`: the cnn/mlp block it normalizes
        /// (shared_bn's sites), nil inside a resnet; `applyActivation` is timm's `apply_act` for the
        /// normalization-activation layers (false only before a residual addition).
        func normLayer(_ c: Int, sample: Shape, block: Int? = nil, applyActivation: Bool = true) throws -> Layer? {
            if let block, let site = sharedSites[block] { return site }
            switch norm {
            case .batch where devices > 1:
                guard ghostBatchSize == nil else {
                    throw LayerError(layer: "model", "devices \(devices) and a ghost batch size cannot be combined")
                }
                return DataParallelBatchNorm(c, devices: devices, policy: deviceBN, eps: eps, momentum: momentum,
                                             trackRunningStats: trackRunningStats)
            case .batch:
                return BatchNorm(c, eps: eps, momentum: momentum, trackRunningStats: trackRunningStats,
                                 ghostBatchSize: ghostBatchSize)
            case .batchrenorm: return BatchRenorm(c, eps: eps, momentum: momentum, limits: renormLimits)
            case .group: return try GroupNorm(groups: groups, channels: c, eps: eps)
            case .layer: return LayerNorm(sampleShape: sample, eps: eps)
            case .mabn:
                guard sample.rank == 4 else {
                    throw LayerError(layer: "model", "norm mabn needs conv features (N, C, H, W): MABN2d is 2-d only")
                }
                return MovingAverageBatchNorm(c, eps: eps, bufferSize: mabn.bufferSize,
                                              warmupIterations: mabn.warmupIterations)
            case .cbn:
                guard case .exponential(let m) = momentum else {
                    throw LayerError(layer: "model", "norm cbn needs a numeric momentum (CBN.py), got \(momentum)")
                }
                return CrossIterationBatchNorm(c, eps: eps, momentum: m, settings: cbn)
            case .frn: return FilterResponseNorm(channels: c, eps: eps, applyActivation: applyActivation)
            case .evonormS0: return try EvoNormS0(channels: c, groups: groups, eps: eps, applyActivation: applyActivation)
            case .evonormB0:
                guard case .exponential(let m) = momentum else {
                    throw LayerError(layer: "model", "norm evonorm_b0 needs a momentum number (timm's EvoNorm2dB0 has no momentum=None)")
                }
                return EvoNormB0(channels: c, eps: eps, momentum: m, applyActivation: applyActivation)
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
        if dropPathRate > 0 {
            guard case .resnet = architecture, norm != .fixup else {
                throw LayerError(layer: "model", "drop_path needs model resnet with a norm other than fixup")
            }
        }
        var layers: [Layer] = []
        switch architecture {
        case .cnn(let widths, let kernel):
            var c = channels, h = height, w = width
            for (block, out) in widths.enumerated() {
                let centred = norm == .mabn
                let conv = Conv2d(c, out, kernelSize: kernel, padding: kernel / 2, bias: !centred && norm != .cbn,
                                  centredWeights: centred, computesInputGradient: computesInputGradient(), rng: &initRNG)
                h = conv.outputSize(h); w = conv.outputSize(w)
                let n = try normLayer(out, sample: Shape(1, out, h, w), block: block)
                if let crossIteration = n as? CrossIterationBatchNorm {
                    layers.append(ConvCrossIterationBatchNorm(conv: conv, norm: crossIteration))
                } else {
                    layers.append(conv)
                    if let n { layers.append(n) }
                }
                if !norm.includesActivation { layers.append(activation.makeLayer()) }
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
            if norm == .cbn {
                throw LayerError(layer: "model", "norm cbn needs conv features: CBN.py compensates through the conv weight")
            }
            for (block, out) in widths.enumerated() {
                layers.append(Linear(inFeatures, out, computesInputGradient: computesInputGradient(), rng: &initRNG))
                if let n = try normLayer(out, sample: Shape(1, out), block: block) { layers.append(n) }
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
            // timm builds no DropPath where the block's rate is 0 (the first block, or drop_path 0).
            let rates = dropPathRate > 0 ? DropPath.linearDecayRates(Double(dropPathRate), blocks: blocks.reduce(0, +)) : []
            func dropPath(_ block: Int) throws -> DropPath? {
                guard block < rates.count, rates[block] > 0 else { return nil }
                return try DropPath(p: rates[block], rng: rng.derived("drop-path-\(block)"))
            }
            return try ResidualNetwork.make(channels: channels, height: height, width: width, classes: classes,
                                            blocks: blocks, widths: widths, stem: stem,
                                            norm: { try normLayer($0.channels, sample: $0.sampleShape,
                                                                  applyActivation: $0.applyActivation) },
                                            activation: activation.makeLayer,
                                            dropout: try dropoutLayer(), dropPath: dropPath, rng: &initRNG)
        }
        return Sequential(layers)
    }
}
