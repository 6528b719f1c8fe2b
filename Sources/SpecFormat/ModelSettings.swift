import NN

// The typed values of the model settings of a spec (`model` ... `eps`).

/// The network (`model`). Each entry of `channels` / `widths` is one block.
public enum ModelArchitecture: Hashable, Sendable {
    /// Per entry: conv KxK (padding K/2) -> norm -> ReLU -> maxpool 2;
    /// then flatten -> dropout -> linear to the classes. `kernel` is odd.
    case cnn(channels: [Int], kernel: Int)
    /// Per entry: linear -> norm -> ReLU -> dropout; then linear to the classes.
    case mlp(widths: [Int])

    /// The two blocks that `shared_bn` makes share one BatchNorm module: the first block whose width
    /// (cnn channel count, mlp width) equals an earlier block's, and that earlier block (0-based; e.g.
    /// blocks 0 and 1 of `cnn channels=16,16,32`, blocks 0 and 2 of `16,32,16`); nil when every width differs.
    public var sharedNormalizationBlocks: (first: Int, second: Int)? {
        let counts = featureCounts
        for second in counts.indices {
            if let first = counts[..<second].firstIndex(of: counts[second]) { return (first, second) }
        }
        return nil
    }

    /// The channel counts (cnn) or widths (mlp) that a normalization layer sees.
    public var featureCounts: [Int] {
        switch self {
        case let .cnn(channels, _): return channels
        case let .mlp(widths): return widths
        }
    }
}

/// The normalization layer after every conv / linear block (`norm`).
public enum NormKind: String, CaseIterable, Hashable, Sendable {
    /// BatchNorm (Ioffe & Szegedy 2015), GroupNorm (Wu & He 2018), LayerNorm (Ba et al. 2016),
    /// Batch Renormalization (Ioffe 2017), or no normalization.
    case batch, group, layer, batchrenorm, none

    /// Whether the layer keeps running statistics from batches (BatchNorm and
    /// Batch Renormalization): the layers whose train and eval modes differ.
    public var usesBatchStatistics: Bool { self == .batch || self == .batchrenorm }
}

/// Batch Renormalization's clipping limits over training (`renorm`): the layer's own type, whose
/// ``BatchRenorm/Limits/limits(atStep:)`` is the one definition of the schedule.
public typealias RenormSchedule = BatchRenorm.Limits

/// Which framework's meaning the spec's `momentum` value has (`momentum_convention`).
///
/// - `pytorch`: `running = (1 - momentum) * running + momentum * batch` (momentum weights the NEW batch;
///   PyTorch's default 0.1);
/// - `keras`: `running = momentum * running + (1 - momentum) * batch` (momentum weights the OLD statistics;
///   `keras.layers.BatchNormalization`'s default 0.99), converted to PyTorch's `1 - momentum` when the
///   cell is built (pytorch/examples#289 is the bug of pasting one into the other).
/// Only the momentum converts: Keras's eps default (1e-3) is not PyTorch's (1e-5), and `eps` stays its own key.
public enum MomentumConvention: String, CaseIterable, Hashable, Sendable {
    case pytorch, keras

    /// The momentum in PyTorch's convention (``BNMomentum``) of a value `written` in this one. The Keras
    /// conversion `1 - m` is taken on the value as written (the shortest decimal that reads back to the
    /// Float, e.g. `0.99`), in Double, then rounded once to Float: `keras 0.99` is then the very Float that
    /// `pytorch 0.01` parses to (1 - Float(0.99) in Float would be 0.00999999046, not Float(0.01)).
    public func pytorchMomentum(_ written: BNMomentum) -> BNMomentum {
        switch (self, written) {
        case (.pytorch, _), (.keras, .cumulative): return written
        case let (.keras, .exponential(m)):
            let decimal = Double(SpecNumber.format(m)) ?? Double(m)
            return .exponential(Float(1 - decimal))
        }
    }
}

/// Whether two blocks of the same width share one BatchNorm module (`shared_bn`; the blocks are
/// ``ModelArchitecture/sharedNormalizationBlocks``), pytorch/pytorch#1738.
public enum SharedBatchNormSetting: String, CaseIterable, Hashable, Sendable {
    /// A module per block (today's models).
    case off
    /// One module, parameters and running statistics, called at both blocks.
    case shared
    /// One affine (weight, bias), running statistics per block: detectron2's `CycleBatchNormList`.
    case sharedAffine = "shared-affine"

    /// What the two sites share, nil for `off`.
    public var sharing: SharedBatchNormSite.Sharing? {
        switch self {
        case .off: return nil
        case .shared: return .module
        case .sharedAffine: return .affine
        }
    }
}

/// Where a data-parallel model's BatchNorm running statistics come from (`device_bn`): the layer's own
/// type, ``DataParallelBatchNorm/Policy``, whose summary has the definitions.
public typealias DeviceBatchNormPolicy = DataParallelBatchNorm.Policy
