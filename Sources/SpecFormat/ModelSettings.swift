import NN

// The typed values of the model settings of a spec (`model` ... `eps`).

/// The network (`model`). Each entry of `channels` / `widths` is one block.
public enum ModelArchitecture: Hashable, Sendable {
    /// Per entry: conv KxK (padding K/2) -> norm -> ReLU -> maxpool 2;
    /// then flatten -> dropout -> linear to the classes. `kernel` is odd.
    case cnn(channels: [Int], kernel: Int)
    /// Per entry: linear -> norm -> ReLU -> dropout; then linear to the classes.
    case mlp(widths: [Int])

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

/// Batch Renormalization's clipping limits over training (`renorm`);
/// Ioffe, "Batch Renormalization", NeurIPS 2017.
public struct RenormSchedule: Hashable, Sendable {
    /// The final limit of r, |r| in [1/rMax, rMax]; >= 1.
    public var rMax: Float
    /// The final limit of d, |d| <= dMax; >= 0.
    public var dMax: Float
    /// Optimizer steps with rMax = 1 and dMax = 0 (plain BatchNorm).
    public var warmupSteps: Int
    /// Optimizer steps over which the limits rise linearly to rMax and dMax.
    public var rampSteps: Int

    /// A schedule; the defaults are those of the spec.
    public init(rMax: Float = 3, dMax: Float = 5, warmupSteps: Int = 0, rampSteps: Int = 0) {
        self.rMax = rMax
        self.dMax = dMax
        self.warmupSteps = warmupSteps
        self.rampSteps = rampSteps
    }

    /// The limits in force for optimizer step `step` (0-based):
    /// progress = 0 before `warmupSteps`, then min(1, (step - warmupSteps + 1) / rampSteps)
    /// (1 at once when rampSteps = 0); r_max = 1 + (rMax - 1) * progress, d_max = dMax * progress.
    public func limits(atStep step: Int) -> (rMax: Float, dMax: Float) {
        let progress: Float
        if step < warmupSteps {
            progress = 0
        } else if rampSteps == 0 {
            progress = 1
        } else {
            progress = min(1, Float(step - warmupSteps + 1) / Float(rampSteps))
        }
        return (1 + (rMax - 1) * progress, dMax * progress)
    }
}
