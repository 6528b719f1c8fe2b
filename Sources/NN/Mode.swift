import TensorCore

/// Whether a mode-sensitive layer behaves as in `model.train()` or `model.eval()`.
public enum Phase: String, Sendable, Equatable {
    case train
    case eval
}

/// How the layers with running statistics normalize: train and eval as ``Phase``, or test-time
/// adaptation with a prior (Schneider et al., NeurIPS 2020, "Improving robustness against common
/// corruptions by covariate shift adaptation"; their code: bethgelab/robustness
/// `robusta/batchnorm/bn.py`, `BayesianBatchNorm`).
public enum NormalizationPhase: Sendable, Equatable, CustomStringConvertible {
    /// `model.train()`: batch statistics, running statistics updated.
    case train
    /// `model.eval()`: running statistics.
    case eval
    /// Eval mode with statistics mixed from the running ones and the current batch's, weighting the
    /// running ones by `priorWeight` in [0, 1] (the authors' `prior`, `N / (N + n)` for a prior
    /// strength `N` and the test batch size `n`): `mean = w * running_mean + (1 - w) * batch_mean`,
    /// `var = w * running_var + (1 - w) * batch_var`, batch_var UNBIASED (their batch statistics are
    /// a `momentum=1` BatchNorm2d's running_var). The running statistics are not changed.
    case adapted(priorWeight: Float)

    public var description: String {
        switch self {
        case .train: return "train"
        case .eval: return "eval"
        case .adapted(let w): return "adapted(prior_weight=\(w))"
        }
    }
}

/// The learning phase, passed explicitly to every `forward` (never a global).
///
/// Normalization and dropout are switched separately because the
/// experiments need the mixed cases:
/// - `.train`: PyTorch's `model.train()`;
/// - `.eval`: PyTorch's `model.eval()`;
/// - `Mode(normalization: .train, dropout: .eval)`: batch statistics with
///   dropout off ("train-mode accuracy");
/// - `Mode(normalization: .eval, dropout: .train)`: Monte-Carlo dropout with
///   BatchNorm on its running statistics (unlike Keras's `training=True`,
///   which flips both);
/// - `Mode(normalization: .train, dropout: .train, ghostBatches: false)`: recalibration's
///   passes, with Ghost BatchNorm's statistics over the whole batch.
public struct Mode: Sendable, Equatable, CustomStringConvertible {
    /// BatchNorm and Batch Renormalization: `.train` normalizes with the
    /// batch's statistics and updates the running ones; `.eval` uses the
    /// running statistics; `.adapted` mixes both (``NormalizationPhase``). EvoNorm-B0 has train and
    /// eval only. GroupNorm, LayerNorm, FRN and EvoNorm-S0 ignore it (no running state).
    public var normalization: NormalizationPhase
    /// Dropout and DropPath: `.train` drops and rescales, `.eval` is the identity (Dropout's classical
    /// convention scales by `1 - p` instead; with `activeInEval` a Dropout ignores this and always drops).
    public var dropout: Phase
    /// Ghost BatchNorm (a BatchNorm with a ghost batch size `g`), in `normalization == .train`:
    /// `true` takes the statistics per ghost batch of `g` samples, as in training; `false` over
    /// the whole batch, as recalibration does to measure statistics at its own batch size.
    /// Other layers ignore it.
    public var ghostBatches: Bool
    /// The threads the layers may split their work over (``ComputeThreads``; ``ComputeThreads/serial``
    /// unless given). Not part of the learning phase: it changes no number (every parallel kernel
    /// computes the bits of its one-thread version), so ``==`` and ``description`` leave it out. A
    /// layer's backward uses the threads of its last forward.
    public var threads: ComputeThreads

    public init(normalization: NormalizationPhase, dropout: Phase, ghostBatches: Bool = true,
                threads: ComputeThreads = .serial) {
        self.normalization = normalization
        self.dropout = dropout
        self.ghostBatches = ghostBatches
        self.threads = threads
    }

    /// The same phase on `threads`.
    public func on(_ threads: ComputeThreads) -> Mode {
        var mode = self
        mode.threads = threads
        return mode
    }

    /// The same phase, whatever the threads.
    public static func == (a: Mode, b: Mode) -> Bool {
        a.normalization == b.normalization && a.dropout == b.dropout && a.ghostBatches == b.ghostBatches
    }

    /// `model.train()`.
    public static let train = Mode(normalization: .train, dropout: .train)
    /// `model.eval()`.
    public static let eval = Mode(normalization: .eval, dropout: .eval)

    public var description: String {
        "normalization=\(normalization) dropout=\(dropout.rawValue)" + (ghostBatches ? "" : " ghost_batches=off")
    }
}
