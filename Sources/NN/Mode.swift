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
///   which flips both).
public struct Mode: Sendable, Equatable, CustomStringConvertible {
    /// BatchNorm and Batch Renormalization: `.train` normalizes with the
    /// batch's statistics and updates the running ones; `.eval` uses the
    /// running statistics. GroupNorm and LayerNorm ignore it (no running state).
    public var normalization: Phase
    /// Dropout: `.train` drops and rescales, `.eval` is the identity.
    public var dropout: Phase

    public init(normalization: Phase, dropout: Phase) {
        self.normalization = normalization
        self.dropout = dropout
    }

    /// `model.train()`.
    public static let train = Mode(normalization: .train, dropout: .train)
    /// `model.eval()`.
    public static let eval = Mode(normalization: .eval, dropout: .eval)

    public var description: String { "normalization=\(normalization.rawValue) dropout=\(dropout.rawValue)" }
}
