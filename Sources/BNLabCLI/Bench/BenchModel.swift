import Experiment
import SpecFormat
import NN
import TensorCore

/// The three models `bnlab bench` times, built by the same ``ModelRecipe`` as the experiments.
///
/// - `flagship`: conv3x3 1->16 pad 1, BN, ReLU, maxpool 2, conv3x3 16->32 pad 1, BN, ReLU,
///   maxpool 2, flatten, linear to 3 classes, on 1x16x16 inputs;
/// - `cnn28`: the same network on 1x28x28 inputs with 10 classes;
/// - `mlp`: flatten, linear 784->128, BN, ReLU, dropout 0.5, linear 128->128, BN, ReLU,
///   dropout 0.5, linear to 10 classes, on 1x28x28 inputs;
/// - `resnet`: ResNet-8 (`model resnet blocks=1,1,1 channels=16,32,64`, BatchNorm, ReLU): stem
///   conv3x3 1->16, one basic block per stage at 16x16, 8x8 and 4x4 (projections into stages 2
///   and 3), global average pooling, linear to 3 classes, on the flagship's 1x16x16 inputs.
///
/// `Benchmarks/pytorch_reference.py` builds the same four in PyTorch; keep them in step.
enum BenchModel: String, CaseIterable, Sendable {
    case flagship, cnn28, mlp, resnet

    /// The models that `--models` selects.
    static func selected(_ choice: BenchCommand.Models) -> [BenchModel] {
        switch choice {
        case .all: return allCases
        case .flagship: return [.flagship]
        case .cnn28: return [.cnn28]
        case .mlp: return [.mlp]
        case .resnet: return [.resnet]
        }
    }

    var recipe: ModelRecipe {
        switch self {
        case .flagship, .cnn28: return ModelRecipe(architecture: .cnn(channels: [16, 32], kernel: 3))
        case .mlp: return ModelRecipe(architecture: .mlp(widths: [128, 128]), dropout: 0.5)
        case .resnet: return ModelRecipe(architecture: .resnet(blocks: [1, 1, 1], channels: [16, 32, 64], stem: 16))
        }
    }

    /// One input sample: `(C, H, W)`.
    var sampleShape: (channels: Int, height: Int, width: Int) {
        switch self {
        case .flagship, .resnet: return (1, 16, 16)
        case .cnn28, .mlp: return (1, 28, 28)
        }
    }

    var classes: Int { self == .flagship || self == .resnet ? 3 : 10 }

    /// A line for the report header.
    var summary: String {
        let s = sampleShape
        return "\(rawValue): \(recipe.architecture) on \(s.channels)x\(s.height)x\(s.width), \(classes) classes"
            + (recipe.dropout > 0 ? ", dropout \(recipe.dropout)" : "")
    }

    /// A freshly initialized model (fixed seed).
    func build(seed: UInt64) throws -> Sequential {
        let s = sampleShape
        return try recipe.build(channels: s.channels, height: s.height, width: s.width, classes: classes,
                                rng: RandomGenerator(seed: seed))
    }
}
