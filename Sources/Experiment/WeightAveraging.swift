import NN
import SpecFormat

/// What the averaged model averages and what its BatchNorm buffers are (`weight_average`, `ema_decay`,
/// `weight_average_buffers`).
public struct WeightAveragePlan: Hashable, Sendable {
    public enum Rule: Hashable, Sendable {
        /// After every optimizer step; `decay` as Python holds the literal.
        case ema(decay: Double)
        /// At the end of every epoch from ``WeightAveragePlan/swaStartEpoch(of:)`` on.
        case swa
    }

    public var rule: Rule
    public var buffers: WeightAverageBuffers

    public init(rule: Rule, buffers: WeightAverageBuffers) {
        self.rule = rule; self.buffers = buffers
    }

    /// SWA's first averaged epoch (1-based) of `epochCount`: `floor(0.75 * epochCount) + 1`, so the last 25%
    /// of the epochs are averaged (Izmailov et al. 2018 start at 75% of the budget; the PyTorch SWA blog post's
    /// "the last 25% of training"). 30 epochs: 23 ... 30; 8: 7 and 8; 1: 1.
    public static func swaStartEpoch(of epochCount: Int) -> Int { epochCount * 3 / 4 + 1 }
}

/// The averaged copy of a model kept beside its training (``WeightAveragePlan``), updated from the live model
/// and never writing it. Every parameter and buffer is matched by its state-dict key (``StateDictEntry``), so
/// every norm's buffers are covered. The rules, each as its reference code computes it in Float32:
///
/// Parameters, whatever the buffer policy (so the policies differ only in the buffers):
/// - `ema` (timm `ModelEmaV2.update`, after every optimizer step, from `deepcopy(model)` at creation):
///   `ema = decay * ema + (1 - decay) * live`: the two products and the sum each rounded to Float32, with
///   `decay` and `1 - decay` computed in Double and rounded. ModelEmaV3 and `get_ema_multi_avg_fn` compute the
///   same average as `lerp(ema, live, 1 - decay)`, which differs by rounding only; AveragedModel's EMA also
///   copies the live weights at its first update instead of blending them with the initial ones.
/// - `swa` (`AveragedModel` with its default equal-weight average, `update_parameters` at the end of every epoch
///   from ``WeightAveragePlan/swaStartEpoch(of:)``): the first update copies, the `n`-th after it
///   `avg = avg + (live - avg) / (n + 1)` (`get_swa_avg_fn`, the CPU path), so after `k` updates `avg` is the
///   mean of the `k` snapshots.
///
/// Buffers (`running_mean`, `running_var`, `num_batches_tracked`; MABN/CBN/EvoNorm-B0's own):
/// - `averaged`: the parameters' rule applied to them too (ModelEmaV2 averages the whole `state_dict()`;
///   `AveragedModel(use_buffers=True)`). An integer buffer goes through Float32 and is truncated toward zero, as
///   `copy_` of a float result into an int64 tensor does: ModelEmaV2's `num_batches_tracked` becomes
///   `trunc(decay * n_ema + (1 - decay) * n_live)`, which stays near 0 for the first `1 / (1 - decay)` steps;
///   SWA's `trunc(avg + (live - avg) / (n + 1))`.
/// - `live`: copied from the live model at every update (ModelEmaV3 `exclude_buffers=True`:
///   `ema_b.copy_(model_b)`; `AveragedModel(use_buffers=False)` since PyTorch 2.0, pytorch/pytorch#84054).
/// - `stale` and `recalibrated`: never written: the creation copy's values (the model as initialized:
///   mean 0, variance 1), as `AveragedModel(use_buffers=False)` left them before #84054; `recalibrated` is
///   re-estimated after training by the caller (``CellRunner``, `update_bn`'s semantics).
public final class WeightAveraging {
    public let plan: WeightAveragePlan
    /// The averaged model: a copy of the live model as it was when this was created.
    public let model: Sequential
    /// AveragedModel's `n_averaged` (updates so far; EMA steps count too).
    public private(set) var updates = 0
    private let entries: [StateDictEntry]
    /// The live model this copies and its entries, listed once: its tensors are the layers' own, so the
    /// entries stay valid while it trains (and the every-step EMA update walks no model tree).
    private let live: Sequential
    private let liveEntries: [StateDictEntry]

    /// Copies `live` (`deepcopy(model)`); create it before the first step.
    public init(copying live: Sequential, plan: WeightAveragePlan) {
        self.plan = plan
        model = live.clone()
        entries = model.stateDictEntries
        self.live = live
        liveEntries = live.stateDictEntries
        precondition(liveEntries.map(\.key) == entries.map(\.key), "weight averaging: the models' state dicts differ")
    }

    /// After every optimizer step: the EMA's update.
    public func stepFinished(live: Sequential) {
        if case .ema = plan.rule { update(from: live) }
    }

    /// At the end of epoch `epoch` (1-based) of `epochCount`, after its last step: SWA's update.
    public func epochFinished(live: Sequential, epoch: Int, of epochCount: Int) {
        if case .swa = plan.rule, epoch >= WeightAveragePlan.swaStartEpoch(of: epochCount) { update(from: live) }
    }

    /// One update of the average from `live` (same architecture; the state-dict keys must match).
    func update(from live: Sequential) {
        let liveEntries = live === self.live ? self.liveEntries : live.stateDictEntries
        precondition(live === self.live || liveEntries.map(\.key) == entries.map(\.key),
                     "weight averaging: the models' state dicts differ")
        for (averaged, current) in zip(entries, liveEntries) {
            switch (averaged.kind, plan.buffers) {
            case (.parameter, _), (.buffer, .averaged): average(averaged, toward: current)
            case (.buffer, .live): copy(current, into: averaged)
            case (.buffer, .stale), (.buffer, .recalibrated): break
            }
        }
        updates += 1
    }

    private func average(_ average: StateDictEntry, toward current: StateDictEntry) {
        let first = updates == 0
        switch plan.rule {
        case .ema(let decay):
            let keep = Float(decay), take = Float(1 - decay)
            if let a = average.floatTensor, let m = current.floatTensor {
                for i in 0..<a.count {
                    let kept = keep * a.data[i], taken = take * m.data[i]
                    a.data[i] = kept + taken
                }
            } else if let a = average.integerValue, let m = current.integerValue {
                let kept = keep * Float(a), taken = take * Float(m)
                average.setInteger(Int(kept + taken))
            }
        case .swa:
            if first { return copy(current, into: average) }
            let count = Float(updates + 1)
            if let a = average.floatTensor, let m = current.floatTensor {
                for i in 0..<a.count { a.data[i] += (m.data[i] - a.data[i]) / count }
            } else if let a = average.integerValue, let m = current.integerValue {
                average.setInteger(Int(Float(a) + Float(m - a) / count))
            }
        }
    }

    private func copy(_ current: StateDictEntry, into average: StateDictEntry) {
        if let a = average.floatTensor, let m = current.floatTensor {
            for i in 0..<a.count { a.data[i] = m.data[i] }
        } else if let m = current.integerValue {
            average.setInteger(m)
        }
    }
}
