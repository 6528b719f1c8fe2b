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
    /// Also measure what a forgotten `model.eval()` does.
    public var forgotEval: Bool
    /// Also report the accuracy an assigning (`n_correct = ...`) evaluation loop prints.
    public var metricBug: Bool

    public init(evalBatchSize: Int = 128, recalibrateSamples: Int? = nil, recalibrateBatchSize: Int = 32,
                estimator: VarianceEstimator = .population, recalibrateOnTest: Bool = false,
                adaptPrior: Float? = nil, mcSamples: Int = 0, forgotEval: Bool = false, metricBug: Bool = false) {
        self.evalBatchSize = evalBatchSize; self.recalibrateSamples = recalibrateSamples
        self.recalibrateBatchSize = recalibrateBatchSize; self.estimator = estimator
        self.recalibrateOnTest = recalibrateOnTest; self.adaptPrior = adaptPrior; self.mcSamples = mcSamples
        self.forgotEval = forgotEval; self.metricBug = metricBug
    }
}
