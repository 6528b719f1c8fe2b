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
    /// Batch statistics as in ``train``, the running statistics (and their counters) left as they are:
    /// a frozen BatchNormalization (`trainable=False`) inside `fit` in Keras 2.1.3 ... 2.x multi-backend
    /// and tf.keras before TF 2.0 (the layer's update ops dropped, the learning phase still 1; keras PR
    /// #9965 describes it and was declined); in PyTorch `F.batch_norm(x, None, None, weight, bias,
    /// training=True)`, or a BatchNorm whose `track_running_stats` was switched off after it was built,
    /// in train mode (Lightning's `BaseFinetuning.freeze_module` since Lightning-AI/pytorch-lightning#15063).
    case trainWithoutUpdate
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
        case .trainWithoutUpdate: return "train-without-update"
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
///   passes, with Ghost BatchNorm's statistics over the whole batch;
/// - `Mode(normalization: .eval, dropout: .train)` also: fine-tuning with the feature layers' BatchNorm
///   frozen in eval mode (FrozenBN; TF >= 2.0's `trainable=False`), and
///   `Mode(normalization: .trainWithoutUpdate, dropout: .train)` with it frozen as Keras 2.1.3 ... 2.x
///   multi-backend and TF 1.x's `trainable=False` freezes it (batch statistics, no update).
public struct Mode: Sendable, Equatable, CustomStringConvertible {
    /// BatchNorm and Batch Renormalization: `.train` normalizes with the
    /// batch's statistics and updates the running ones; `.trainWithoutUpdate` normalizes with them
    /// and updates nothing; `.eval` uses the running statistics; `.adapted` mixes both
    /// (``NormalizationPhase``). EvoNorm-B0 has train, train-without-update and eval; MABN and CBN
    /// (whose train passes keep buffers of past statistics) refuse train-without-update. GroupNorm,
    /// LayerNorm, FRN and EvoNorm-S0 ignore it (no running state).
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
