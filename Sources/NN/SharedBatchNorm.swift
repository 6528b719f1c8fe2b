import TensorCore

/// One call site of a BatchNorm module that a network calls at several places: the code of
/// pytorch/pytorch#1738, which defines one `self.bn` and calls it at two depths, and its remedy,
/// detectron2's `CycleBatchNormList` (shared affine, statistics per site; Wu & Johnson 2021, Sec. 5.2).
///
/// Legend: `x (N, C)` or `(N, C, H, W)`; sites `s = 0, 1, ...` in the order forward calls them.
/// Every site computes exactly what ``BatchNorm`` computes (its formulas, Ghost BatchNorm included);
/// what the sites share is the state (``BatchNormState``):
/// - ``Sharing/module`` (`shared`): ONE state, parameters AND running statistics. In train mode each
///   call normalizes with its own batch statistics and updates the shared running statistics, so one
///   step updates them once per site, in forward order (`num_batches_tracked += 2` for two sites):
///   with momentum `f`, `running = (1 - f) * ((1 - f) * running + f * batch_0) + f * batch_1`; eval mode
///   then normalizes both sites with that mixture. `dweight` and `dbias` are the sums of the sites'.
/// - ``Sharing/affine`` (`shared-affine`): one `weight` and `bias` (the same ``Parameter`` objects),
///   separate running statistics per site, each updated once per step by its own site. detectron2
///   computes `bn_s(x) * weight + bias` with an affine-free `bn_s` per site; the same function,
///   rounded once less here.
///
/// Forward keeps, PER SITE (each site has its own ``BatchNormCore`` on the shared state), a reference
/// to `x` and the `(chunks, C)` mean and invStd: the model calls site 0 then site 1 in forward and
/// their backwards in reverse order, and each backward reads its own site's caches.
///
/// Ownership, so that the state is explicit where PyTorch dedups by object identity:
/// - ``parameters``: site 0 lists `weight` and `bias`, the other sites nothing, so
///   `Sequential.parameters` holds each parameter once and the optimizer steps it once
///   (`named_parameters` removes duplicates);
/// - state dict: site 0 lists the parameters; the running statistics are listed by every site that
///   has its own (``listsRunningStatistics``): one entry set for the shared module, as the `state_dict`
///   of a module that registers one `self.bn` lists it once (an `nn.Sequential` holding the same
///   module at two positions would list the same tensors under both, which safetensors' `save_file`
///   refuses);
/// - `Sequential.clone()` copies a shared state once (``StateSharingLayer``): the copy's sites share
///   with each other, never with the original's; ``clone()`` of a lone site copies its state.
public final class SharedBatchNormSite: RunningStatisticsLayer, StateSharingLayer {
    /// What the sites of the module share.
    public enum Sharing: String, Sendable, CaseIterable {
        /// One module: affine parameters and running statistics.
        case module
        /// The affine parameters only; running statistics per site (detectron2's `CycleBatchNormList`).
        case affine
    }

    public let sharing: Sharing
    /// This site's position among the module's sites, in forward order (0 = first).
    public let site: Int
    /// The number of sites of the module.
    public let siteCount: Int
    public let trackRunningStats: Bool
    public let ghostBatchSize: Int?
    /// This site's passes and caches, on the state the sites share.
    public let core: BatchNormCore

    private init(sharing: Sharing, site: Int, siteCount: Int, trackRunningStats: Bool, ghostBatchSize: Int?,
                 state: BatchNormState) {
        self.sharing = sharing; self.site = site; self.siteCount = siteCount
        self.trackRunningStats = trackRunningStats; self.ghostBatchSize = ghostBatchSize
        core = BatchNormCore(state: state)
    }

    /// The `count` (>= 2) sites of one module of `numFeatures` features, in forward order, with
    /// PyTorch's init and BatchNorm's settings.
    public static func sites(_ count: Int = 2, numFeatures: Int, eps: Float = 1e-5,
                             momentum: BNMomentum = .exponential(0.1), trackRunningStats: Bool = true,
                             ghostBatchSize: Int? = nil, sharing: Sharing) -> [SharedBatchNormSite] {
        precondition(count >= 2, "SharedBatchNormSite: a shared module needs at least 2 sites, got \(count)")
        precondition((ghostBatchSize ?? 1) >= 1, "SharedBatchNormSite: ghost batch size must be >= 1, got \(ghostBatchSize ?? 0)")
        let first = BatchNormState(layer: "BatchNorm", features: numFeatures, eps: eps, momentum: momentum)
        return (0..<count).map { s in
            let state = s == 0 || sharing == .module ? first
                : BatchNormState(layer: "BatchNorm", features: numFeatures, eps: eps, momentum: momentum,
                                 affine: (first.weight, first.bias))
            return SharedBatchNormSite(sharing: sharing, site: s, siteCount: count, trackRunningStats: trackRunningStats,
                                       ghostBatchSize: ghostBatchSize, state: state)
        }
    }

    public var name: String {
        let what = sharing == .module ? "shared module" : "shared affine"
        return "BatchNorm(\(numFeatures), momentum=\(momentum)\(ghostBatchSize.map { ", ghost=\($0)" } ?? ""),"
            + " \(what), site \(site + 1) of \(siteCount))"
    }

    /// `weight` and `bias` at site 0 only (see the type's summary).
    public var parameters: [Parameter] { site == 0 ? [weight, bias] : [] }

    /// Whether this site's running statistics are its own, not those of an earlier site.
    public var listsRunningStatistics: Bool { site == 0 || sharing == .affine }

    /// A site with a copy of the state, shared with no other site.
    public func clone() -> SharedBatchNormSite {
        var copies: [ObjectIdentifier: AnyObject] = [:]
        return clone(sharing: &copies)
    }

    /// The site on the copy of the shared state in `copies` (made by the first site cloned).
    public func clone(sharing copies: inout [ObjectIdentifier: AnyObject]) -> SharedBatchNormSite {
        func copied<T: AnyObject>(_ original: T, _ make: () -> T) -> T {
            if let copy = copies[ObjectIdentifier(original)] as? T { return copy }
            let copy = make()
            copies[ObjectIdentifier(original)] = copy
            return copy
        }
        let original = core.state
        let state = copied(original) {
            let weight = copied(original.weight) { original.weight.copyValue() }
            let bias = copied(original.bias) { original.bias.copyValue() }
            return original.copy(affine: (weight, bias))
        }
        return SharedBatchNormSite(sharing: sharing, site: site, siteCount: siteCount,
                                   trackRunningStats: trackRunningStats, ghostBatchSize: ghostBatchSize, state: state)
    }

    /// ``BatchNorm``'s forward on the shared state, with this site's caches.
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try core.forwardBatchNorm(x, mode: mode, trackRunningStats: trackRunningStats, ghostBatchSize: ghostBatchSize,
                                  layer: name)
    }

    /// ``BatchNorm``'s backward from this site's caches; `dweight`, `dbias` accumulate (`+=`) into the
    /// shared parameters, so after every site's backward they hold the sum of the sites' gradients.
    public func backward(_ dy: Tensor) -> Tensor { core.backward(dy, layer: name) }
}

/// A layer whose state other layers may share: a container clones it through
/// ``clone(sharing:)`` with one `copies` table for the whole container, so that state shared inside
/// the original is shared inside the copy (and nothing is shared between the two).
public protocol StateSharingLayer: Layer {
    /// A deep copy that takes an already made copy of a shared object from `copies` (keyed by the
    /// original's identity) and records the copies it makes.
    func clone(sharing copies: inout [ObjectIdentifier: AnyObject]) -> Self
}
