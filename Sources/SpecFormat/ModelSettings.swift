import NN

// The typed values of the model settings of a spec (`model` ... `eps`).

/// The network (`model`). Each entry of `channels` / `widths` is one block.
public enum ModelArchitecture: Hashable, Sendable {
    /// Per entry: conv KxK (padding K/2) -> norm -> ReLU -> maxpool 2;
    /// then flatten -> dropout -> linear to the classes. `kernel` is odd.
    case cnn(channels: [Int], kernel: Int)
    /// Per entry: linear -> norm -> ReLU -> dropout; then linear to the classes.
    case mlp(widths: [Int])
    /// The residual network of He et al. 2016's CIFAR family (ResNet-8 is `blocks [1, 1, 1]`):
    /// stem conv3x3 (`stem` channels) -> norm -> ReLU; per stage `i`, `blocks[i]` basic blocks
    /// (``ResidualBlock``) of `channels[i]` channels, the first of every stage after the first with
    /// stride 2; a projection shortcut where the shape changes; global average pooling ->
    /// dropout -> linear to the classes. `stem` is `channels[0]` unless the spec sets it.
    case resnet(blocks: [Int], channels: [Int], stem: Int)

    /// `cnn`, `mlp` or `resnet`.
    public var kindName: String {
        switch self {
        case .cnn: return "cnn"
        case .mlp: return "mlp"
        case .resnet: return "resnet"
        }
    }

    /// The channel counts (cnn, resnet with its stem) or widths (mlp) that a normalization layer sees.
    public var featureCounts: [Int] {
        switch self {
        case let .cnn(channels, _): return channels
        case let .mlp(widths): return widths
        case let .resnet(_, channels, stem): return [stem] + channels
        }
    }
}

/// The nonlinearity after every normalization (`activation`): PyTorch's `nn.ReLU` or
/// `nn.LeakyReLU(negative_slope)`.
public enum Activation: Hashable, Sendable {
    /// `y = max(x, 0)`.
    case relu
    /// `y = x > 0 ? x : slope * x`, PyTorch's default slope 0.01.
    case leakyReLU(slope: Float)

    /// A fresh layer.
    public func makeLayer() -> Layer {
        switch self {
        case .relu: return ReLU()
        case .leakyReLU(let slope): return LeakyReLU(negativeSlope: slope)
        }
    }
}

/// The normalization layer after every conv / linear block (`norm`).
public enum NormKind: String, CaseIterable, Hashable, Sendable {
    /// BatchNorm (Ioffe & Szegedy 2015), GroupNorm (Wu & He 2018), LayerNorm (Ba et al. 2016),
    /// Batch Renormalization (Ioffe 2017), no normalization, or Fixup (Zhang, Dauphin & Ma 2019: no
    /// normalization, the authors' initialization, scalar biases and scales; `model resnet` only,
    /// ``ResidualNetwork/makeFixup(channels:height:width:classes:blocks:widths:stem:activation:dropout:rng:)``).
    case batch, group, layer, batchrenorm, none, fixup

    /// Whether the layer keeps running statistics from batches (BatchNorm and
    /// Batch Renormalization): the layers whose train and eval modes differ.
    public var usesBatchStatistics: Bool { self == .batch || self == .batchrenorm }
}

/// Batch Renormalization's clipping limits over training (`renorm`): the layer's own type, whose
/// ``BatchRenorm/Limits/limits(atStep:)`` is the one definition of the schedule.
public typealias RenormSchedule = BatchRenorm.Limits
