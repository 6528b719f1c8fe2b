import SpecFormat
import Foundation
import NN

/// Trained models shared by the cells of a sweep that differ only in how they are
/// evaluated (the evaluation settings: `eval_batch_size`, `recalibrate_*`, `mc_samples`, `forgot_eval*`,
/// `metric_bug`, ...) or in how the test split is made (`test_normalize`, `test_storage`,
/// `split_overlap`, unless the training validates on it): each distinct training runs once per process.
/// With `epoch_eval` the training evaluates after every epoch, on the test split with the evaluation
/// settings, so those are part of its key too. A fine-tuning cell's first phase is a training of its own
/// (``Key/firstPhase``), shared by the cells that fine-tune it in different ways.
///
/// The cache keeps the trained model and hands out clones, so no two cells ever
/// share a layer (layers own their workspaces); the clones share one ``MeasurementMemo``, so a
/// measurement that two of the cells make alike is computed once. A training that is under way on
/// another thread is waited for, not started twice. Results do not depend on
/// whether a model came from the cache: training is deterministic given its key.
///
/// Memory: the sweep declares up front how many cells will ask for each key
/// (``expect(_:)``); the last of them gets the cached model itself and the entry is
/// dropped, so a sweep holds only the trained models that cells still to run will
/// share (the flagship sweep held all 144 before: 950 MB resident). A key nobody
/// declared counts as one use.
public final class TrainedModelCache: @unchecked Sendable {  // Sendable: `condition` guards the entries
    /// Everything that determines a training run.
    public struct Key: Hashable, Sendable {
        public var model: ModelRecipe
        public var optimizer: OptimizerSettings
        public var learningRate: Double
        public var training: TrainingPlan
        public var seed: UInt64
        /// Identity of the data the training reads (``Cell/trainingDataKey``).
        public var data: String
        /// With `epoch_eval`, the evaluation settings: the evaluations after every epoch are part of the
        /// training and use them on the test split (``CellRunner/evaluateEpoch(_:model:cell:data:)``); nil without.
        public var epochEvaluation: EvaluationPlan?
        /// The fine-tuning phase after `training`; nil = none.
        public var fineTune: FineTunePlan?

        public init(_ cell: Cell) {
            model = cell.model; optimizer = cell.optimizer; learningRate = cell.learningRate
            training = cell.training; seed = cell.seed; data = cell.trainingDataKey; fineTune = cell.fineTune
            epochEvaluation = cell.training.epochEval ? cell.evaluation : nil
        }

        /// The training before the fine-tuning phase: shared by the cells that fine-tune it differently
        /// (`freeze`, `finetune_shift`, `finetune_epochs`) and by one that does not fine-tune.
        public var firstPhase: Key {
            var first = self
            first.fineTune = nil
            return first
        }
    }

    public struct Entry {
        public let model: Sequential
        public let outcome: TrainingOutcome
        /// The averaged model (``TrainingPlan/weightAverage``), its buffers as the plan's policy left them
        /// (`recalibrated` not yet re-estimated); nil without one.
        public var averaged: Sequential? = nil
        /// The model as the first phase left it, before fine-tuning (``Cell/fineTune``); nil without it.
        public var pretrained: Sequential? = nil
        /// The measurements of this training, shared by every cell that gets a copy of the entry.
        var measurements = MeasurementMemo()
    }

    private enum State {
        case training
        case done(Result<Entry, Error>)
    }

    private let condition = NSCondition()
    private var states: [Key: State] = [:]
    /// Uses still to come per key (absent: one).
    private var remainingUses: [Key: Int] = [:]

    public init() {}

    /// Declares one more cell that will ask for `key`. A fine-tuning key trains once however many cells
    /// ask for it, and that training asks once for its ``Key/firstPhase``: its first declaration declares one.
    public func expect(_ key: Key) {
        condition.lock()
        if key.fineTune != nil && remainingUses[key] == nil { remainingUses[key.firstPhase, default: 0] += 1 }
        remainingUses[key, default: 0] += 1
        condition.unlock()
    }

    /// Counts one use of `key` (the lock held); on its last expected use drops the entry
    /// and returns true: the caller may then hand out the cached model itself.
    private func takeUse(_ key: Key) -> Bool {
        let left = (remainingUses[key] ?? 1) - 1
        if left > 0 {
            remainingUses[key] = left
            return false
        }
        remainingUses[key] = nil
        states[key] = nil
        return true
    }

    /// The trained model for `key` (a clone, or the cached model itself on the key's last
    /// expected use) and its outcome, training it with `train` on first use.
    public func model(for key: Key, train: () throws -> Entry) throws -> Entry {
        func handOut(_ result: Result<Entry, Error>, last: Bool) throws -> Entry {
            let entry = try result.get()
            return last ? entry : Entry(model: entry.model.clone(), outcome: entry.outcome, averaged: entry.averaged?.clone(),
                                        pretrained: entry.pretrained?.clone(), measurements: entry.measurements)
        }
        condition.lock()
        while true {
            switch states[key] {
            case .done(let result)?:
                let last = takeUse(key)
                condition.unlock()
                return try handOut(result, last: last)
            case .training?:
                condition.wait()
            case nil:
                states[key] = .training
                condition.unlock()
                let result = Result { try train() }
                condition.lock()
                states[key] = .done(result)
                let last = takeUse(key)
                condition.broadcast()
                condition.unlock()
                return try handOut(result, last: last)
            }
        }
    }
}
