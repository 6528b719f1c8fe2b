import Datasets
import SpecFormat

/// What to measure after training.
public struct EvaluationPlan: Hashable, Sendable {
    /// Batch size of the batch-statistics evaluation (`track_running_stats=False`).
    public var evalBatchSize: Int
    /// Samples used to recalibrate (nil = the whole split) and their batch size.
    public var recalibrateSamples: Int?
    public var recalibrateBatchSize: Int
    public var estimator: VarianceEstimator
    /// Recalibrate on the test inputs (AdaBN, labels unused) instead of the training split.
    public var recalibrateOnTest: Bool
    /// The prior strength N of test-time BatchNorm adaptation (Schneider et al. 2020); nil = not measured.
    public var adaptPrior: Float?
    /// Monte-Carlo dropout passes (0 = not measured).
    public var mcSamples: Int
    /// Also measure what a forgotten `model.eval()` does (nil = not measured).
    public var forgotEval: ForgottenEval?
    /// Also measure train mode over single-class test batches (`test_acc_train_mode_class_blocked`).
    public var classBlockedEval: Bool
    /// Also measure eval mode with the other dropout convention's rule (`mixed_dropout_eval`).
    public var mixedDropoutEval: Bool
    /// Also measure train mode over the training split (`train_mode_train_split`, `train_acc_train_mode`).
    public var trainModeOnTrainSplit: Bool
    /// Also measure a checkpoint reload that loses the BatchNorm buffers (`lossy_reload`).
    public var lossyReload: Bool
    /// Also report the accuracy an assigning (`n_correct = ...`) evaluation loop prints.
    public var metricBug: Bool

    public init(evalBatchSize: Int = 128, recalibrateSamples: Int? = nil, recalibrateBatchSize: Int = 32,
                estimator: VarianceEstimator = .population, recalibrateOnTest: Bool = false,
                adaptPrior: Float? = nil, mcSamples: Int = 0, forgotEval: ForgottenEval? = nil, classBlockedEval: Bool = false,
                mixedDropoutEval: Bool = false, trainModeOnTrainSplit: Bool = false, lossyReload: Bool = false,
                metricBug: Bool = false) {
        self.evalBatchSize = evalBatchSize; self.recalibrateSamples = recalibrateSamples
        self.recalibrateBatchSize = recalibrateBatchSize; self.estimator = estimator
        self.recalibrateOnTest = recalibrateOnTest; self.adaptPrior = adaptPrior; self.mcSamples = mcSamples
        self.forgotEval = forgotEval; self.classBlockedEval = classBlockedEval
        self.mixedDropoutEval = mixedDropoutEval; self.trainModeOnTrainSplit = trainModeOnTrainSplit
        self.lossyReload = lossyReload
        self.metricBug = metricBug
    }
}

/// The evaluation that forgot `model.eval()`: the whole model in train mode over test batches of
/// `eval_batch_size`, which updates the running statistics with them (`forgot_eval_*` settings).
public struct ForgottenEval: Hashable, Sendable {
    /// How many test batches, in the test split's order (nil = all of them).
    public var batches: Int?
    /// Added to every input value the forgotten pass sees: `x' = x + shift`.
    public var shift: Float

    public init(batches: Int? = nil, shift: Float = 0) {
        precondition((batches ?? 1) >= 1, "forgotten eval: batches must be >= 1, got \(batches ?? 0)")
        self.batches = batches; self.shift = shift
    }

    /// What the forgotten pass runs over: the first `batches * batchSize` samples of `test` (all of it
    /// when `batches` is nil or covers it), every value plus `shift`.
    public func inputs(of test: ImageDataset, batchSize: Int) -> ImageDataset {
        var seen = batches.map { test.subset(Array(0..<min(test.count, $0 * batchSize))) } ?? test
        if shift != 0 { seen.images = seen.images.map { $0 + shift } }
        return seen
    }
}
