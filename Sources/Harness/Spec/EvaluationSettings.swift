// The typed values of the evaluation settings of a spec (`recalibrate_*`).

/// How many training samples recalibrate the BatchNorm statistics (`recalibrate_samples`).
public enum RecalibrationSamples: Hashable, Sendable {
    /// The whole split (`recalibrate_data`).
    case all
    /// This many samples, >= 1.
    case count(Int)
}

/// How recalibration turns batch statistics into running ones (`recalibrate_estimator`).
public enum VarianceEstimator: String, CaseIterable, Hashable, Sendable {
    /// The mean and the unbiased variance of all recalibration samples taken together.
    case population
    /// The mean of the batch means and the mean of the batch variances (each
    /// unbiased, n/(n-1)): what a cumulative running average of BatchNorm stores.
    case meanOfBatchVariances = "mean-of-batch-variances"
}

/// Which inputs recalibrate the BatchNorm statistics (`recalibrate_data`).
public enum RecalibrationData: String, CaseIterable, Hashable, Sendable {
    /// The training inputs.
    case train
    /// The unlabelled test inputs (AdaBN; Li et al. 2016).
    case test
}
