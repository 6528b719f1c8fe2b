/// The rules between settings, checked on every cell of a grid; each error
/// points at the setting that breaks the rule (or, when that setting is at
/// its default, at the one that made the default wrong).
enum SpecRules {
    // MARK: Per cell

    /// Refuses a cell whose settings contradict each other.
    static func checkCell(_ cell: ResolvedCell) throws {
        let c = cell.config
        if let why = c.norm.featureMapsOnly, case .mlp = c.model {
            throw SpecProblem(cell.location("norm", "model"), "norm \(c.norm.rawValue) \(why)")
        }
        if c.norm == .evonormB0 && c.momentum == .cumulative {
            throw SpecProblem(cell.location("momentum", "norm"),
                              "momentum cumulative (PyTorch's momentum=None) is not defined for norm evonorm_b0:"
                              + " timm's EvoNorm2dB0 takes a number in (0, 1]")
        }
        if let layer = c.norm.groupedLayerName {
            let counts = c.model.featureCounts
            if let bad = counts.first(where: { $0 % c.groups != 0 }) {
                let what = { if case .mlp = c.model { return "width" } else { return "channel count" } }()
                let given = cell.locations["groups"] == nil ? " (the default)" : ""
                throw SpecProblem(cell.location("groups", "norm", "model"),
                                  "groups \(c.groups)\(given) does not divide \(what) \(bad) of the model;"
                                  + " \(layer) needs groups to divide every \(what)")
            }
        }
        if c.norm == .cbn, c.momentum == .cumulative {
            throw SpecProblem(cell.location("momentum", "norm"), "momentum cumulative is not defined for norm cbn:"
                              + " CBN.py's momentum is a number")
        }
        if c.norm == .fixup {
            // Fixup is defined for residual networks: its init scales each residual branch.
            guard case let .resnet(_, widths, stem) = c.model else {
                throw SpecProblem(cell.location("norm", "model"), "norm fixup needs model resnet (Fixup initializes"
                                  + " residual branches; there is none in a \(c.model.kindName))")
            }
            if let shrink = zip([stem] + widths, widths).first(where: { $0 > $1 }) {
                throw SpecProblem(cell.location("model", "norm"), "norm fixup: widths must not shrink (its shortcut pads"
                                  + " channels with zeros), got \(shrink.0) -> \(shrink.1)")
            }
        }
        if cell.locations["drop_path"] != nil {
            // Stochastic depth drops residual branches: only the resnet has them.
            guard case let .resnet(blocks, _, _) = c.model else {
                throw SpecProblem(cell.location("drop_path", "model"), "drop_path needs model resnet (it drops residual"
                                  + " branches; there is none in a \(c.model.kindName))")
            }
            let total = blocks.reduce(0, +)
            if c.dropPathRate > 0 && total < 2 {
                throw SpecProblem(cell.location("drop_path", "model"), "drop_path \(SpecNumber.format(c.dropPathRate))"
                                  + " needs at least 2 residual blocks: the per-block rate drop_path * i / (L - 1) divides"
                                  + " by zero with L = \(total) (timm raises ZeroDivisionError)")
            }
            if c.dropPathRate > 0 && c.norm == .fixup {
                throw SpecProblem(cell.location("drop_path", "norm"), "drop_path is not built into Fixup's blocks"
                                  + " (norm fixup); it is with the other norms of model resnet")
            }
        }
        if c.dropLast && c.batchSize > c.trainSplit {
            // PyTorch's DataLoader(drop_last=True) yields no batch at all here, and the
            // training loop silently trains nothing; refuse instead.
            throw SpecProblem(cell.location("batch_size", "train_split", "drop_last"),
                              "batch_size \(c.batchSize) exceeds train_split \(c.trainSplit): with drop_last on,"
                              + " an epoch would have no batch and the model would not train;"
                              + " lower batch_size, raise train_split or set drop_last off")
        }
        if c.frozenBNEpochs > c.epochs {
            throw SpecProblem(cell.location("frozen_bn_epochs", "epochs"),
                              "frozen_bn_epochs \(c.frozenBNEpochs) exceeds epochs \(c.epochs)")
        }
        switch c.model {
        case let .cnn(channels, _): try checkImageSize(cell, blocks: channels.count)
        case .resnet: try checkImages(cell, model: "resnet")
        case .mlp: break
        }
        try checkMomentumConvention(cell)
        try checkFineTuning(cell)
        try checkSharedBatchNorm(cell)
        try checkDevices(cell)
    }

    /// A convolutional model needs images: refuses a csv without a shape. Returns the smaller
    /// side of the images where the spec says it (not for idx, whose size is in the file).
    @discardableResult
    private static func checkImages(_ cell: ResolvedCell, model: String) throws -> Int? {
        switch cell.config.dataset {
        case let .shapes(size, _): return size
        case .cifar10: return 32
        case .idx: return nil
        case let .csv(csv):
            guard let shape = csv.shape else {
                throw SpecProblem(cell.location("dataset", "model"), "model \(model) needs images: give dataset csv"
                                  + " a shape=CxHxW")
            }
            return min(shape.height, shape.width)
        }
    }

    /// `devices K` cuts every training batch into K equal shards, one per device's BatchNorm.
    private static func checkDevices(_ cell: ResolvedCell) throws {
        let c = cell.config
        guard c.devices > 1 else { return }
        if c.batchSize % c.devices != 0 {
            throw SpecProblem(cell.location("devices", "batch_size"), "devices \(c.devices) does not divide batch_size"
                              + " \(c.batchSize): each device normalizes a shard of batch_size / devices samples")
        }
        if c.norm != .batch {
            throw SpecProblem(cell.location("devices", "norm"), "devices \(c.devices) simulates per-device BatchNorm, but"
                              + " norm is \(c.norm.rawValue); it needs norm batch")
        }
        if c.ghostBatchSize != nil {
            throw SpecProblem(cell.location("ghost_batch_size", "devices"), "ghost_batch_size and devices \(c.devices)"
                              + " both cut the batch for its statistics; set one of them")
        }
        if c.sharedBN != .off {
            throw SpecProblem(cell.location("shared_bn", "devices"), "shared_bn \(c.sharedBN.rawValue) and devices"
                              + " \(c.devices) cannot be combined; set one of them")
        }
        if !c.dropLast {
            throw SpecProblem(cell.location("drop_last", "devices"), "devices \(c.devices) needs drop_last on: every"
                              + " training step gives each device a shard of batch_size / devices samples")
        }
    }

    /// `finetune_epochs` adds a phase that the per-epoch passes and the averaged model do not follow, and
    /// `freeze keras-tf1` needs a norm whose train pass can leave its state alone.
    private static func checkFineTuning(_ cell: ResolvedCell) throws {
        let c = cell.config
        guard c.finetuneEpochs > 0 else { return }
        let excluded: [(key: String, set: Bool, why: String)] = [
            ("validation", c.validation != .off, "the fine-tuning phase runs no validation pass (freeze"
             + " eval-then-train stands for the model.train() that ends one)"),
            ("epoch_eval", c.epochEval, "its per-epoch table would cover the first phase only"),
            ("weight_average", c.weightAverage != .off, "the averaged model would follow the first phase only"),
        ]
        if let clash = excluded.first(where: \.set) {
            throw SpecProblem(cell.location(clash.key, "finetune_epochs"), "\(clash.key)"
                              + " \(c.canonicalValue(of: clash.key) ?? "") cannot be combined with finetune_epochs"
                              + " \(c.finetuneEpochs): \(clash.why)")
        }
        if c.freeze == .kerasTF1 && (c.norm == .mabn || c.norm == .cbn) {
            throw SpecProblem(cell.location("freeze", "norm"), "freeze keras-tf1 (batch statistics without an update)"
                              + " is not defined for norm \(c.norm.rawValue), whose train passes keep buffers of past"
                              + " batches' statistics")
        }
    }

    /// `shared_bn` shares a BatchNorm module between two blocks of the same width.
    private static func checkSharedBatchNorm(_ cell: ResolvedCell) throws {
        let c = cell.config
        guard c.sharedBN != .off else { return }
        if case .resnet = c.model {
            throw SpecProblem(cell.location("shared_bn", "model"), "shared_bn \(c.sharedBN.rawValue) shares the BatchNorm"
                              + " of two cnn or mlp blocks; model resnet has no shared sites")
        }
        if c.norm != .batch {
            throw SpecProblem(cell.location("shared_bn", "norm"), "shared_bn \(c.sharedBN.rawValue) shares a BatchNorm"
                              + " module, but norm is \(c.norm.rawValue); it needs norm batch")
        }
        if c.model.sharedNormalizationBlocks == nil {
            let what = { if case .cnn = c.model { return "channel count" } else { return "width" } }()
            let counts = c.model.featureCounts.map(String.init).joined(separator: ",")
            throw SpecProblem(cell.location("shared_bn", "model"), "shared_bn \(c.sharedBN.rawValue) shares the"
                              + " BatchNorm module of two blocks of the same \(what), but the model's are \(counts),"
                              + " all different (e.g. channels=16,16,32 shares blocks 1 and 2)")
        }
    }

    /// Keras's momentum has no `cumulative` (PyTorch's momentum=None), and Keras's 1 is PyTorch's 0,
    /// running statistics that never move, which the momentum range (0, 1] refuses in PyTorch's convention.
    private static func checkMomentumConvention(_ cell: ResolvedCell) throws {
        let c = cell.config
        guard c.momentumConvention == .keras else { return }
        switch c.momentum {
        case .cumulative:
            throw SpecProblem(cell.location("momentum", "momentum_convention"),
                              "momentum cumulative is PyTorch's momentum=None, which Keras has no value for;"
                              + " momentum_convention keras needs a number in (0, 1)")
        case .exponential(let m) where m >= 1:
            throw SpecProblem(cell.location("momentum", "momentum_convention"),
                              "momentum \(SpecNumber.format(m)) in Keras's convention keeps the initial running"
                              + " statistics forever (PyTorch's momentum 0); momentum_convention keras needs a number"
                              + " in (0, 1)")
        case .exponential: return
        }
    }

    /// A cnn halves the image in every block (maxpool 2, rounding down): the
    /// input must survive all of them, and must be an image at all.
    private static func checkImageSize(_ cell: ResolvedCell, blocks: Int) throws {
        guard let side = try checkImages(cell, model: "cnn") else { return }  // idx: the size is in the file
        var remaining = side, allowed = 0
        while remaining >= 2 { remaining /= 2; allowed += 1 }
        if blocks > allowed {
            throw SpecProblem(cell.location("model", "dataset"), "model cnn has \(blocks) blocks, each halving"
                              + " the image (maxpool 2), but inputs \(side) pixels wide allow at most \(allowed)")
        }
    }

    // MARK: Over a grid (relevance: SpecRules+Relevance.swift)

    /// Settings that are allowed but probably a mistake (the warnings about a
    /// single value, like `momentum 0.9`, come from the value's parser), and
    /// columns that a cell can never measure (SpecRules+EmptyColumns.swift).
    static func warnings(_ cells: [ResolvedCell]) -> [SpecProblem] {
        var warnings: [SpecProblem] = []
        for cell in cells where !cell.config.dropLast && cell.config.norm.usesBatchStatistics {
            if let location = cell.locations["drop_last"],
               !warnings.contains(where: { $0.location == location }) {
                warnings.append(SpecProblem(location, "drop_last off keeps each epoch's last, smaller batch;"
                                            + " BatchNorm then normalizes with the statistics of a few samples"
                                            + " (PyTorch refuses a batch with one value per channel)"))
            }
        }
        return warnings + momentumWarnings(cells) + emptyColumnWarnings(cells)
    }

    /// A momentum that looks pasted from the other framework's convention, once per written value:
    /// above 0.5 in PyTorch's (Keras's 0.9 and 0.99 are PyTorch's 0.1 and 0.01), below 0.5 in Keras's
    /// (PyTorch's 0.1 is Keras's 0.9); 0.5 means the same in both.
    static func momentumWarnings(_ cells: [ResolvedCell]) -> [SpecProblem] {
        var warnings: [SpecProblem] = []
        for cell in cells {
            guard let location = cell.locations["momentum"], case let .exponential(m) = cell.config.momentum,
                  !warnings.contains(where: { $0.location == location }) else { continue }
            let written = SpecNumber.format(m)
            guard case let .exponential(other) = MomentumConvention.keras.pytorchMomentum(cell.config.momentum) else {
                continue
            }
            let converted = SpecNumber.format(other)  // 1 - m, either way
            switch cell.config.momentumConvention {
            case .pytorch where m > 0.5:
                warnings.append(SpecProblem(location, "momentum \(written) weights the NEW batch by \(written) in"
                                            + " PyTorch's convention; Keras/TensorFlow's \(written) means PyTorch's"
                                            + " \(converted) (or set momentum_convention keras)"))
            case .keras where m < 0.5:
                warnings.append(SpecProblem(location, "momentum \(written) with momentum_convention keras weights"
                                            + " the OLD statistics by \(written), i.e. PyTorch's \(converted);"
                                            + " a PyTorch value pasted? PyTorch's \(written) is Keras's \(converted)"))
            default: continue
            }
        }
        return warnings
    }
}
