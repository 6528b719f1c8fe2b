import NN

/// The outcome of a cell: `ok`, `diverged` (non-finite loss) or `invalid` (a
/// configuration the layers refuse, e.g. BatchNorm training on one value per channel).
public enum CellStatus: Hashable, Sendable {
    case ok
    case diverged(Divergence)
    case invalid(String)

    public var name: String {
        switch self { case .ok: return "ok"; case .diverged: return "diverged"; case .invalid: return "invalid" }
    }
    public var detail: String {
        switch self {
        case .ok: return ""
        case .diverged(let d): return "non-finite loss at \(d)"
        case .invalid(let reason): return reason
        }
    }
}
