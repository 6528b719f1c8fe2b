import SpecFormat

/// One measurement of ``CellRunner`` after training, named by everything its result depends on
/// besides the trained model: what it computes (``Kind``, with its own settings), the data it reads
/// (``data``) and the batch size of its main pass. Every draw a measurement makes comes from the cell's
/// seed, which the trained model's key holds. So two cells that share a training
/// (``TrainedModelCache/Key``) and name equal measurements get equal results: ``MeasurementMemo``
/// computes each once.
struct MeasurementPass: Hashable, Sendable {
    /// What a measurement computes; the comment of each case names the columns it gives.
    enum Kind: Hashable, Sendable {
        /// A copy of the model with batch statistics and dropout off (`Mode(normalization: .train, dropout: .eval)`)
        /// over the test split (`test_acc_train_mode`, `test_acc_batch_stats`) or the training split
        /// (`train_acc_train_mode`).
        case batchStatistics(onTrainingSplit: Bool)
        /// The same over the test split's class-blocked batches (`test_acc_train_mode_class_blocked`).
        case batchStatisticsClassBlocked
        /// Eval mode over the test split, the correct and the assigning count (`test_acc_eval_mode`,
        /// `test_acc_assigning_bug`).
        case evalMode
        /// ``RunningStatisticsProbe`` over the training split (`train_acc_eval_mode`, the statistics' errors).
        case statisticsProbe
        /// A copy recalibrated with these settings, in eval mode over the test split
        /// (`test_acc_recalibrated`) and, with `probe`, its statistics' errors over the training split.
        case recalibrated(RecalibrationSettings, probe: Bool)
        /// Test-time adaptation with prior strength `prior` (`adapted_accuracy`).
        case adapted(prior: Float)
        /// The averaged model, its buffers by the plan's policy (`test_acc_averaged`).
        case averaged
        /// Monte-Carlo dropout with `passes` passes (`test_acc_mc_dropout`).
        case monteCarloDropout(passes: Int)
        /// The other dropout convention's eval rule (`test_acc_eval_mixed_dropout`).
        case otherDropoutConvention
        /// The forgotten `model.eval()` and the evaluation after it (`test_acc_forgot_eval`,
        /// `test_acc_eval_after_forgot_eval`).
        case forgottenEval(ForgottenEval)
        /// Two passes in each mode and how much they disagree (`train_mode_disagreement`, `eval_mode_disagreement`).
        case disagreement
        /// The parameters-only checkpoint in eval mode (`test_acc_after_lossy_reload`, with the strict load's note).
        case lossyReload
        /// That checkpoint recalibrated with these settings (`test_acc_reload_recalibrated`).
        case lossyReloadRecalibrated(RecalibrationSettings)
        /// A fine-tuning cell's model before the fine-tuning (`pretrained`) or after it, in eval mode over the
        /// test split as the fine-tuning shifts it or as loaded (`test_acc_before_finetune`,
        /// `test_acc_unshifted_before_finetune`, `test_acc_unshifted`).
        case evalModeAroundFineTuning(pretrained: Bool, shifted: Bool)

        /// Whether it reads the test split; otherwise it reads the training split alone.
        var readsTestSplit: Bool {
            switch self {
            case .batchStatistics(let onTrainingSplit): return !onTrainingSplit
            case .statisticsProbe: return false
            default: return true
            }
        }
    }

    /// The recalibration settings a recalibrated measurement depends on (its draws: `recalibrate` from the seed).
    struct RecalibrationSettings: Hashable, Sendable {
        var onTestSplit: Bool
        var samples: Int
        var batchSize: Int
        var estimator: VarianceEstimator
    }

    let kind: Kind
    /// The identity of the splits it reads: the cell's ``Cell/dataKey`` when it reads the test split
    /// (which that key decides together with the training split), else ``Cell/trainingDataKey``, so
    /// cells that differ only in test-only data settings share their passes over the training split.
    /// (A fine-tuning cell measures the splits shifted by `finetune_shift`, which is part of the training's
    /// key: the same for every cell whose memo it is.)
    let data: String
    let batchSize: Int

    init(_ kind: Kind, batchSize: Int, of cell: Cell) {
        self.kind = kind
        self.batchSize = batchSize
        data = kind.readsTestSplit ? cell.dataKey : cell.trainingDataKey
    }
}
