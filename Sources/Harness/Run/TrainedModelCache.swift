import Foundation
import NN

/// Trained models shared by the cells of a sweep that differ only in how they are
/// evaluated (`eval_batch_size`, `recalibrate_*`, `mc_samples`, `forgot_eval`,
/// `metric_bug`): each distinct training runs once per process.
///
/// The cache keeps the trained model and hands out clones, so no two cells ever
/// share a layer (layers own their workspaces). A training that is under way on
/// another thread is waited for, not started twice. Results do not depend on
/// whether a model came from the cache: training is deterministic given its key.
public final class TrainedModelCache: @unchecked Sendable {
    /// Everything that determines a training run.
    public struct Key: Hashable, Sendable {
        public var model: ModelRecipe
        public var optimizer: OptimizerSettings
        public var learningRate: Double
        public var training: TrainingPlan
        public var seed: UInt64
        /// Identity of the training data (settings and seed that produced it).
        public var data: String

        public init(plan: CellPlan, dataKey: String) {
            model = plan.model; optimizer = plan.optimizer; learningRate = plan.learningRate
            training = plan.training; seed = plan.seed; data = dataKey
        }
    }

    public struct Entry {
        public let model: Sequential
        public let outcome: TrainingOutcome
    }

    private enum State {
        case training
        case done(Result<Entry, Error>)
    }

    private let condition = NSCondition()
    private var states: [Key: State] = [:]

    public init() {}

    /// The trained model for `key` (a clone) and its outcome, training it with `train` on first use.
    public func model(for key: Key, train: () throws -> Entry) throws -> Entry {
        condition.lock()
        while true {
            switch states[key] {
            case .done(let result)?:
                condition.unlock()
                let entry = try result.get()
                return Entry(model: entry.model.clone() as! Sequential, outcome: entry.outcome)
            case .training?:
                condition.wait()
            case nil:
                states[key] = .training
                condition.unlock()
                let result = Result { try train() }
                condition.lock()
                states[key] = .done(result)
                condition.broadcast()
                condition.unlock()
                let entry = try result.get()
                return Entry(model: entry.model.clone() as! Sequential, outcome: entry.outcome)
            }
        }
    }
}
