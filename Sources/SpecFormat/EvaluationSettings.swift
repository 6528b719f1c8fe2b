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
    /// fvcore's PreciseBN (`_PopulationVarianceEstimator`): the mean and variance of ALL
    /// values seen, `pop_mean = weighted mean of batch means`,
    /// `pop_var = E[x^2] - pop_mean^2` with `E[x^2] = weighted mean of (mean_B^2 + var_B * (m-1)/m)`,
    /// i.e. the average biased batch variance plus the variance of the batch means.
    case population
    /// `torch.optim.swa_utils.update_bn`: reset, `momentum=None`, forward passes in train
    /// mode, so `running_var` = the average of the unbiased batch variances. It misses the
    /// variance between batch means, badly so at batch sizes 1-4.
    case meanOfBatchVariances = "mean-of-batch-variances"
}

/// Which inputs recalibrate the BatchNorm statistics (`recalibrate_data`).
public enum RecalibrationData: String, CaseIterable, Hashable, Sendable {
    /// The training inputs.
    case train
    /// The unlabelled test inputs (AdaBN; Li et al. 2016).
    case test
}
