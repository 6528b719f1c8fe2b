/// Whether a mode-sensitive layer behaves as in `model.train()` or `model.eval()`.
public enum Phase: String, Sendable, Equatable {
    case train
    case eval
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
    /// running statistics. GroupNorm and LayerNorm ignore it (no running state).
    public var normalization: Phase
    /// Dropout: `.train` drops and rescales, `.eval` is the identity.
    public var dropout: Phase
    /// Ghost BatchNorm (a BatchNorm with a ghost batch size `g`), in `normalization == .train`:
    /// `true` takes the statistics per ghost batch of `g` samples, as in training; `false` over
    /// the whole batch, as recalibration does to measure statistics at its own batch size.
    /// Other layers ignore it.
    public var ghostBatches: Bool

    public init(normalization: Phase, dropout: Phase, ghostBatches: Bool = true) {
        self.normalization = normalization
        self.dropout = dropout
        self.ghostBatches = ghostBatches
    }

    /// `model.train()`.
    public static let train = Mode(normalization: .train, dropout: .train)
    /// `model.eval()`.
    public static let eval = Mode(normalization: .eval, dropout: .eval)

    public var description: String {
        "normalization=\(normalization.rawValue) dropout=\(dropout.rawValue)" + (ghostBatches ? "" : " ghost_batches=off")
    }
}
