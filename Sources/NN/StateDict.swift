import TensorCore

/// One tensor of a model's state under the key PyTorch's `state_dict()` gives it in the model's
/// `nn.Sequential` twin (Benchmarks/pytorch_reference.py, `build_twin`).
///
/// Keys: `INDEX.NAME`, INDEX the layer's position in the Sequential counted as `nn.Sequential`
/// counts modules (ReLU, MaxPool2d, Flatten and Dropout take a position too; a nested Sequential
/// adds `INDEX.` per level). Per layer, in PyTorch's order:
/// - Conv2d: `weight (O, C, KH, KW)`, `bias (O)`; Linear: `weight (OUT, IN)`, `bias (OUT)` (bnlab's
///   layouts are PyTorch's);
/// - BatchNorm (and Batch Renormalization, which has no `torch.nn` module: the keys BatchNorm has):
///   `weight`, `bias`, then with running statistics the buffers `running_mean`, `running_var`
///   (unbiased, as PyTorch stores it) and `num_batches_tracked` (I64, shape `[]`);
/// - a BatchNorm module shared by several sites (``SharedBatchNormSite``): `weight`, `bias` at its
///   first site, the buffers at every site that has its own (the first; every site with a shared
///   affine only), so that a shared tensor has one key;
/// - GroupNorm: `weight (C)`, `bias (C)`; LayerNorm: `weight`, `bias` of the normalized shape,
///   `(C)` or `(C, H, W)`;
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
    }

    /// The element type the entry has in PyTorch (and in a file).
    public var dtype: SafeTensor.DType {
        if case .batchesTracked = storage { return .i64 }
        return .f32
    }

    /// A copy of the current value.
    public var value: SafeTensor {
        switch storage {
        case .values(let t): return SafeTensor(t.array, shape: shape)
        case .batchesTracked(let layer): return SafeTensor([Int64(layer.numBatchesTracked)], shape: [])
        }
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
        case .batchesTracked:
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
        }
    }
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
    fileprivate func stateEntries(prefix: String) -> [StateDictEntry] {
        if !children.isEmpty {
            return children.enumerated().flatMap { index, child in child.stateEntries(prefix: "\(prefix)\(index).") }
        }
        let layerNormShape = (self as? LayerNorm).map { Array($0.normalizedShape.dims.dropFirst()) }
        var entries = parameters.map { p in
            StateDictEntry(key: prefix + p.name, kind: .parameter, shape: layerNormShape ?? p.value.shape.dims,
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
        return entries
    }
}

extension Sequential {
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
