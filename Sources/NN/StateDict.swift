import TensorCore

/// One tensor of a model's state under the key PyTorch's `state_dict()` gives it in the model's
/// `nn.Sequential` twin (Benchmarks/pytorch_reference.py, `build_twin`).
///
/// Keys: `PATH.NAME`, PATH the layer's module path, as `named_modules()` writes it: per level the
/// child's name (``Layer/namedChildren``), which in a cnn or mlp is its position in the Sequential
/// counted as `nn.Sequential` counts modules (ReLU, MaxPool2d, Flatten and Dropout take a position
/// too: `0.weight`, `1.running_mean`). The residual network (``ResidualBlock``) is a Sequential of
/// named children as torchvision's ResNet names its attributes, and its twin an
/// `nn.Sequential(OrderedDict(...))` of the same names (scripts/pytorch_golden.py `resnet`,
/// Benchmarks/pytorch_reference.py):
/// `conv1`, `bn1`, `relu`, `layer1` ... `layerS` (each an `nn.Sequential` of blocks `0`, `1`, ...),
/// `avgpool` (the twin's `avgpool` and `flatten`), `dropout`, `fc`; per block `conv1`, `bn1`, `relu`, `conv2`, `bn2` and,
/// with a projection shortcut, `downsample.0` (the conv1x1) and `downsample.1` (its norm):
/// `layer2.0.downsample.1.running_var`. The norm layers are `bn1`/`bn2` whatever their kind, as
/// torchvision's `norm_layer` keeps them; with Cross-Iteration BN the joined conv-and-norm layers
/// (``ConvCrossIterationBatchNorm``) add no level: `conv1.weight`, `bn1.running_mean`,
/// `downsample.0.weight`, `downsample.1.running_var`, as the authors' mmdet ResNet names them
/// (``ConvNorm``); after a normalization-activation norm there is no `relu` module. Within a layer, own parameters come first, then buffers,
/// then the children (PyTorch's order). Per layer, in PyTorch's order:
/// - Conv2d: `weight (O, C, KH, KW)`, `bias (O)`; Linear: `weight (OUT, IN)`, `bias (OUT)` (bnlab's
///   layouts are PyTorch's);
/// - BatchNorm (and Batch Renormalization, which has no `torch.nn` module: the keys BatchNorm has):
///   `weight`, `bias`, then with running statistics the buffers `running_mean`, `running_var`
///   (unbiased, as PyTorch stores it) and `num_batches_tracked` (I64, shape `[]`);
/// - a ``BufferedLayer`` (MovingAverageBatchNorm, CrossIterationBatchNorm): `weight`, `bias`, then
///   its ``BufferedLayer/buffers`` in the order its reference module registers them;
/// - a BatchNorm module shared by several sites (``SharedBatchNormSite``): `weight`, `bias` at its
///   first site, the buffers at every site that has its own (the first; every site with a shared
///   affine only), so that a shared tensor has one key;
/// - GroupNorm: `weight (C)`, `bias (C)`; LayerNorm: `weight`, `bias` of the normalized shape,
///   `(C)` or `(C, H, W)`; FilterResponseNorm (timm's `FilterResponseNormTlu2d`): `weight`, `bias`, `tau`, each `(C)`;
///   EvoNormS0 (timm's `EvoNorm2dS0`): `weight`, `bias`, `v`, each `(C)`; EvoNormB0 (timm's
///   `EvoNorm2dB0`): `weight`, `bias`, `v`, then the buffer `running_var`, each `(C)`; built without
///   their nonlinearity (timm's `apply_act=False`) they lack `tau` / `v`, as timm's modules do;
/// - Fixup (``FixupBlock``, ``ScalarBias``, the authors' `fixup_resnet_cifar.py` names): per block
///   `bias1a`, `bias1b`, `bias2a`, `scale`, `bias2b` (shape `(1)`), then `conv1.weight`,
///   `conv2.weight`; the network's `bias1` and `bias2` are bare parameters (``ParameterAttribute``).
///   The keys are the authors' `FixupResNet`'s; its `state_dict()` lists `bias1`, `bias2` first
///   (its own parameters), bnlab after `conv1.weight` and `avgpool` (loading matches by key);
/// - layers without parameters: nothing.
public struct StateDictEntry {
    public enum Kind: Sendable { case parameter, buffer }

    public let key: String
    public let kind: Kind
    /// PyTorch's shape (`[]` for `num_batches_tracked`).
    public let shape: [Int]
    fileprivate let storage: Storage

    fileprivate enum Storage {
        case values(Tensor)
        case batchesTracked(RunningStatisticsLayer)
        case counter(LayerBuffer.Counter)
    }

    /// The element type the entry has in PyTorch (and in a file).
    public var dtype: SafeTensor.DType {
        switch storage {
        case .values: return .f32
        case .batchesTracked, .counter: return .i64
        }
    }

    /// A copy of the current value.
    public var value: SafeTensor {
        switch storage {
        case .values(let t): return SafeTensor(t.array, shape: shape)
        case .batchesTracked(let layer): return SafeTensor([Int64(layer.numBatchesTracked)], shape: [])
        case .counter(let counter): return SafeTensor([Int64(counter.get())], shape: shape)
        }
    }

    /// The entry's own Float32 tensor (not a copy: writing it changes the model) for an F32 entry;
    /// nil for an integer one (`num_batches_tracked`, a counter).
    public var floatTensor: Tensor? {
        if case .values(let t) = storage { return t }
        return nil
    }

    /// The value of an integer entry (`num_batches_tracked`, a counter); nil for an F32 one.
    public var integerValue: Int? {
        switch storage {
        case .values: return nil
        case .batchesTracked(let layer): return layer.numBatchesTracked
        case .counter(let counter): return counter.get()
        }
    }

    /// Sets an integer entry (a precondition: it is one).
    public func setInteger(_ value: Int) {
        precondition(integerValue != nil, "\(key) is not an integer entry")
        assign(SafeTensor([Int64(value)], shape: shape))
    }

    /// Why `tensor` cannot be loaded into this entry (PyTorch's words for a size mismatch), or nil.
    fileprivate func mismatch(_ tensor: SafeTensor) -> String? {
        if tensor.shape != shape {
            return "size mismatch for \(key): copying a param with shape \(tensor.shape) from checkpoint, "
                + "the shape in current model is \(shape)."
        }
        switch storage {
        case .values:
            return tensor.dtype == .f32 ? nil
                : "dtype mismatch for \(key): the checkpoint holds \(tensor.dtype.rawValue), the model F32 (bnlab does not convert)"
        case .batchesTracked, .counter:
            return tensor.dtype == .f32 ? "dtype mismatch for \(key): the checkpoint holds F32, the model an integer" : nil
        }
    }

    /// Sets the value (`mismatch(tensor)` must be nil).
    fileprivate func assign(_ tensor: SafeTensor) {
        switch storage {
        case .values(let t):
            let values = tensor.floats!
            for i in values.indices { t.data[i] = values[i] }
        case .batchesTracked(let layer):
            var statistics = layer.snapshotRunningStatistics()
            statistics.batchesTracked = Int(tensor.integers![0])
            layer.restoreRunningStatistics(statistics)
        case .counter(let counter):
            counter.set(Int(tensor.integers![0]))
        }
    }
}

/// One buffer of a ``BufferedLayer``: a float tensor, or an integer counter (PyTorch's `LongTensor`).
public struct LayerBuffer {
    /// An integer buffer, read and written through the layer that owns it.
    public struct Counter {
        let get: () -> Int
        let set: (Int) -> Void
    }

    public enum Value {
        case floats(Tensor)
        case counter(Counter)
    }

    public let name: String
    /// PyTorch's shape (the values are the tensor's, row-major).
    public let shape: [Int]
    public let value: Value

    public init(_ name: String, shape: [Int], _ tensor: Tensor) {
        precondition(shape.reduce(1, *) == tensor.count, "buffer \(name): shape \(shape) for \(tensor.count) values")
        self.name = name; self.shape = shape; value = .floats(tensor)
    }

    public init(_ name: String, shape: [Int], get: @escaping () -> Int, set: @escaping (Int) -> Void) {
        self.name = name; self.shape = shape; value = .counter(Counter(get: get, set: set))
    }
}

/// A layer whose state dict has buffers besides its parameters but which is not a
/// ``RunningStatisticsLayer`` (Moving Average BN, Cross-Iteration BN, EvoNorm-B0): its buffers as its
/// reference module's `state_dict()` lists them.
public protocol BufferedLayer: Layer {
    var buffers: [LayerBuffer] { get }
}

/// What ``Sequential/load(stateDict:strict:)`` did not match, as `load_state_dict` returns it.
public struct StateDictLoadReport: Equatable, Sendable {
    /// Keys of the model that the file lacks, in model order (nothing was loaded into them).
    public var missingKeys: [String]
    /// Keys of the file that the model lacks, sorted (ignored).
    public var unexpectedKeys: [String]

    public init(missingKeys: [String], unexpectedKeys: [String]) {
        self.missingKeys = missingKeys
        self.unexpectedKeys = unexpectedKeys
    }
}

/// A state dict that does not fit the model; the message is PyTorch's
/// (`Error(s) in loading state_dict for Sequential:` then one tab-indented line per problem).
public struct StateDictError: Error, CustomStringConvertible, Equatable {
    public let problems: [String]
    public var description: String {
        "Error(s) in loading state_dict for Sequential:" + problems.map { "\n\t" + $0 }.joined()
    }
}

extension Layer {
    /// The entries of this layer and of the layers inside it, keys prefixed with `prefix`.
    /// PyTorch's `state_dict()` order: the layer's own parameters, its buffers, then each child's
    /// entries under `NAME.`.
    fileprivate func stateEntries(prefix: String) -> [StateDictEntry] {
        let layerNormShape = (self as? LayerNorm).map { Array($0.normalizedShape.dims.dropFirst()) }
        var entries = ownParameters.map { p in
            StateDictEntry(key: parameterKey(p, prefix: prefix), kind: .parameter, shape: layerNormShape ?? p.value.shape.dims,
                           storage: .values(p.value))
        }
        if let statistics = self as? RunningStatisticsLayer, statistics.trackRunningStats, statistics.listsRunningStatistics {
            let c = [statistics.numFeatures]
            entries += [
                StateDictEntry(key: prefix + "running_mean", kind: .buffer, shape: c, storage: .values(statistics.runningMean)),
                StateDictEntry(key: prefix + "running_var", kind: .buffer, shape: c, storage: .values(statistics.runningVar)),
                StateDictEntry(key: prefix + "num_batches_tracked", kind: .buffer, shape: [],
                               storage: .batchesTracked(statistics)),
            ]
        }
        for buffer in (self as? BufferedLayer)?.buffers ?? [] {
            let storage: StateDictEntry.Storage
            switch buffer.value {
            case .floats(let t): storage = .values(t)
            case .counter(let c): storage = .counter(c)
            }
            entries.append(StateDictEntry(key: prefix + buffer.name, kind: .buffer, shape: buffer.shape, storage: storage))
        }
        return entries + namedChildren.flatMap { child in child.layer.stateEntries(prefix: "\(prefix)\(child.name).") }
    }
}

extension Layer {
    /// `PREFIX` + the parameter's name; for a ``ParameterAttribute`` the layer's own path (the prefix
    /// without its final `.`).
    fileprivate func parameterKey(_ p: Parameter, prefix: String) -> String {
        self is ParameterAttribute ? String(prefix.dropLast()) : prefix + p.name
    }

    /// The parameters of this layer and of the layers inside it under their PyTorch names, keys
    /// prefixed with `prefix` (``Sequential/namedParameters``).
    fileprivate func namedParameters(prefix: String) -> [(name: String, parameter: Parameter)] {
        ownParameters.map { (parameterKey($0, prefix: prefix), $0) }
            + namedChildren.flatMap { child in child.layer.namedParameters(prefix: "\(prefix)\(child.name).") }
    }
}

extension Sequential {
    /// Every parameter under its state-dict key, as `named_parameters()` lists them.
    public var namedParameters: [(name: String, parameter: Parameter)] { namedParameters(prefix: "") }

    /// Every parameter and buffer under its PyTorch key, in `state_dict()` order (see ``StateDictEntry``).
    public var stateDictEntries: [StateDictEntry] { stateEntries(prefix: "") }

    /// A copy of the state, as `model.state_dict()` would save it with `safetensors.torch.save_file`.
    public func stateDict(metadata: [String: String]? = nil) -> SafeTensorsFile {
        SafeTensorsFile(tensors: Dictionary(uniqueKeysWithValues: stateDictEntries.map { ($0.key, $0.value) }),
                        metadata: metadata)
    }

    /// Sets the parameters and buffers from `file`, as `model.load_state_dict(load_file(...), strict)`:
    /// - a key whose shape or element type does not fit throws, in both modes (floats must be F32;
    ///   `num_batches_tracked` any integer type);
    /// - `strict`: a key of the model missing from the file, or a key of the file the model lacks,
    ///   throws a ``StateDictError`` that lists them all;
    /// - not `strict`: loads what matches and reports the rest.
    /// A missing `num_batches_tracked` is not reported and keeps its value, as PyTorch does for a
    /// state dict without version metadata (all that `load_file` returns). Unlike PyTorch, nothing is
    /// changed when it throws.
    @discardableResult
    public func load(stateDict file: SafeTensorsFile, strict: Bool = true) throws -> StateDictLoadReport {
        let entries = stateDictEntries
        let keys = Set(entries.map(\.key))
        let missing = entries.filter { entry in
            guard file.tensors[entry.key] == nil else { return false }
            if case .batchesTracked = entry.storage { return false }
            return true
        }.map(\.key)
        let unexpected = file.tensors.keys.filter { !keys.contains($0) }.sorted()
        var problems: [String] = []
        if strict && !missing.isEmpty {
            problems.append("Missing key(s) in state_dict: " + missing.map { "\"\($0)\"" }.joined(separator: ", ") + ".")
        }
        if strict && !unexpected.isEmpty {
            problems.append("Unexpected key(s) in state_dict: " + unexpected.map { "\"\($0)\"" }.joined(separator: ", ") + ".")
        }
        problems += entries.compactMap { entry in file.tensors[entry.key].flatMap { entry.mismatch($0) } }
        guard problems.isEmpty else { throw StateDictError(problems: problems) }
        for entry in entries {
            if let tensor = file.tensors[entry.key] { entry.assign(tensor) }
        }
        return StateDictLoadReport(missingKeys: missing, unexpectedKeys: unexpected)
    }
}
