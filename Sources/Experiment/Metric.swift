/// One measured column of a cell's result row, declared once: the result tables, the summary, the
/// charts, the report and the column dictionary in Results/README.md all read it from ``Metric/all``.
///
/// Adding a measured column is one entry in ``Metric/all`` (with its `static let`) plus the code in
/// ``CellRunner`` that computes it (`measurements[.name] = value`). Everything else follows:
/// - `<spec>.csv` gets the column, in this table's order, formatted with `decimals` digits;
/// - `<spec>-summary.csv` gets `<name>_mean` and `<name>_std` over seeds when `summarized`;
/// - the accuracy chart draws a curve when `shown.chart` is set (test-split measures first, then
///   training-split ones, so the test curves keep their colours);
/// - the report's summary table shows a column when `shown.report` is set, and its sentences name
///   the measure when `shown.sentence` is set;
/// - Results/README.md must describe it with `meaning` (a test holds the file to this table).
public struct Metric: Hashable, Sendable {
    /// What the number is, for its formatting and its axis.
    public enum Unit: String, Hashable, Sendable {
        /// A percentage of samples (accuracy, disagreement), 0...100.
        case percent
        /// A mean cross-entropy.
        case loss
        /// A learning rate.
        case learningRate
        /// A fraction in [0, 1].
        case fraction
        /// A whole number.
        case count
    }

    /// The split a measure is taken on; nil for a property of the cell (a setting's effect, a count).
    public enum Split: String, Hashable, Sendable { case train, test }

    /// Where a measure appears besides the tables: its curve in the accuracy chart, its column in the
    /// report's summary table, its name in the report's sentences; an empty string = not there.
    public struct Shown: Sendable {
        public let chartLabel: String?
        public let reportHeading: String?
        public let sentenceName: String?

        public init(chart: String, report: String, sentence: String) {
            chartLabel = chart.isEmpty ? nil : chart
            reportHeading = report.isEmpty ? nil : report
            sentenceName = sentence.isEmpty ? nil : sentence
        }
    }

    /// The column name in the tables.
    public let name: String
    public let unit: Unit
    /// Digits after the point in the tables (row and summary).
    public let decimals: Int
    /// Whether the summary averages it over seeds (`<name>_mean`, `<name>_std`).
    public let summarized: Bool
    /// The split it is measured on; `.none` for a property of the cell (a learning rate, a count).
    public let split: Split?
    public let shown: Shown
    /// The column dictionary entry (Results/README.md).
    public let meaning: String
    /// Whether the tables have this column only where some cell measured it (``columnOnlyWhereMeasured()``).
    public private(set) var hasColumnOnlyWhereMeasured = false

    public init(_ name: String, _ unit: Unit, decimals: Int, summarized: Bool, split: Split?, shown: Shown,
                meaning: String) {
        self.name = name; self.unit = unit; self.decimals = decimals; self.summarized = summarized
        self.split = split; self.shown = shown; self.meaning = meaning
    }

    /// The curve's legend in the accuracy chart; nil = not drawn.
    public var chartLabel: String? { shown.chartLabel }
    /// The column heading in the report's summary table; nil = not shown.
    public var reportHeading: String? { shown.reportHeading }
    /// How the report's sentences name the measure; nil = not named.
    public var sentenceName: String? { shown.sentenceName }

    /// This measure's column (and those of the paired differences it takes part in) in a spec's tables only
    /// when some cell of the spec measured it: for a measure added after results were written, so that every
    /// spec that does not measure it keeps its tables byte for byte. The journal keeps it in every record.
    func columnOnlyWhereMeasured() -> Metric {
        var metric = self
        metric.hasColumnOnlyWhereMeasured = true
        return metric
    }

    public static func == (a: Metric, b: Metric) -> Bool { a.name == b.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}

extension Metric {
    public static let lrUsed = Metric(
        "lr_used", .learningRate, decimals: 6, summarized: false, split: .none,
        shown: Shown(chart: "", report: "", sentence: ""),
        meaning: "the learning rate after `lr_scaling`")
    public static let trainAccRunning = Metric(
        "train_acc_running", .percent, decimals: 2, summarized: true, split: .train,
        shown: Shown(chart: "printed while training (train split)", report: "train (running)", sentence: ""),
        meaning: "accuracy (%) accumulated over the last training epoch in train mode, before each step's update: what a training loop prints")
    public static let trainAccEvalMode = Metric(
        "train_acc_eval_mode", .percent, decimals: 2, summarized: true, split: .train,
        shown: Shown(chart: "", report: "", sentence: ""),
        meaning: "accuracy (%) on the training split in eval mode (running statistics)")
    public static let trainAccTrainMode = Metric(
        "train_acc_train_mode", .percent, decimals: 2, summarized: true, split: .train,
        shown: Shown(chart: "", report: "train, train mode", sentence: "train mode on the training split"),
        meaning: "accuracy (%) on the training split, in its order, in train mode after training: BatchNorm on batch statistics over batches of the **training** batch size (with `ghost_batch_size`, over its ghost batches, as in training), dropout off, running statistics untouched (measured on a copy; `train_mode_train_split on`); the mini-batch statistics curve on the training set of Wu & Johnson 2021")
    public static let testAccTrainMode = Metric(
        "test_acc_train_mode", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "train mode (batch stats)", report: "test, train mode", sentence: "train mode"),
        meaning: "test accuracy (%) in train mode: BatchNorm on batch statistics over test batches of the **training** batch size (with `ghost_batch_size`, over its ghost batches: the normalization batch of training), dropout off, running statistics untouched (measured on a copy)")
    public static let testAccEvalMode = Metric(
        "test_acc_eval_mode", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "eval mode (running stats)", report: "test, eval mode", sentence: "eval mode"),
        meaning: "test accuracy (%) in eval mode: BatchNorm on its running statistics, dropout off; in batches of max(`eval_batch_size`, 64) (eval mode does not depend on the batch size), or of `eval_batch_size` itself with `track_running_stats off`, where eval mode normalizes with batch statistics. With `finetune_epochs` > 0: the fine-tuned model on the shifted test split (every column then measures the shifted splits but `test_acc_unshifted` and `test_acc_unshifted_before_finetune`)")
    public static let testAccRecalibrated = Metric(
        "test_acc_recalibrated", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "recalibrated BN", report: "test, recalibrated", sentence: "recalibrated"),
        meaning: "test accuracy (%) in eval mode after re-estimating the BatchNorm statistics with frozen weights on a copy of the model (`recalibrate_*` settings: samples, batch size, estimator, data)")
    public static let testAccBatchStats = Metric(
        "test_acc_batch_stats", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "batch stats at eval batch size", report: "test, batch stats", sentence: "batch statistics at the eval batch size"),
        meaning: "test accuracy (%) with batch statistics over test batches of `eval_batch_size` (PyTorch's `track_running_stats=False`)")
    public static let adaptedAccuracy = Metric(
        "adapted_accuracy", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "BN adapted with a prior", report: "test, adapted (prior)", sentence: "adapted with a prior"),
        meaning: "test accuracy (%) with test-time BatchNorm adaptation (Schneider et al. 2020, `adapt_prior` N): every BatchNorm normalizes with `w * running + (1 - w) * batch` statistics (the batch variance unbiased), `w = N / (N + eval_batch_size)`, over test batches of `eval_batch_size`, dropout off, running statistics untouched")
    public static let testAccMCDropout = Metric(
        "test_acc_mc_dropout", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "MC-dropout", report: "test, MC-dropout", sentence: "MC-dropout"),
        meaning: "Monte-Carlo dropout: accuracy (%) of the softmax averaged over `mc_samples` passes with dropout on and BatchNorm in eval mode")
    public static let testAccEvalMixedDropout = Metric(
        "test_acc_eval_mixed_dropout", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "eval, the other dropout convention", report: "test, eval, mixed dropout",
                     sentence: "eval mode with the other dropout convention's eval rule"),
        meaning: "eval-mode test accuracy (%) of the trained weights (state dict loaded strictly) in a model whose Dropout layers use the other `dropout_convention`'s eval rule: a model trained `classical` evaluated without the `(1 - p)` factor (activations `1/(1 - p)` too large), or one trained `inverted` evaluated with it (`(1 - p)` too small); measured with `mixed_dropout_eval on` where `dropout` > 0 and `dropout_in_eval off`, BatchNorm on its running statistics")
    public static let testAccForgotEval = Metric(
        "test_acc_forgot_eval", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "forgot eval() (train mode)", report: "test, forgot eval()", sentence: "with eval() forgotten"),
        meaning: "accuracy (%) printed by an evaluation that forgot `model.eval()`: the whole model in train mode (dropout on, running statistics updated by the test batches) over the first `forgot_eval_batches` test batches of `eval_batch_size` (all: the whole test split), each input shifted by `forgot_eval_shift`")
    public static let testAccEvalAfterForgotEval = Metric(
        "test_acc_eval_after_forgot_eval", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "eval after forgot eval()", report: "eval after forgot eval()", sentence: "eval mode afterwards"),
        meaning: "eval-mode test accuracy (%) of that mutated model afterwards, over the whole unshifted test split")
    public static let testAccTrainModeClassBlocked = Metric(
        "test_acc_train_mode_class_blocked", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "train mode, class-blocked test batches", report: "test, train mode, class-blocked",
                     sentence: "train mode over class-blocked test batches"),
        meaning: "test accuracy (%) in train mode (batch statistics, dropout off, on a copy) over class-blocked test batches: the test split grouped by label, split order within a class, each batch of the **training** batch size from one class (`class_blocked_eval`); the batch statistics then carry the label")
    public static let trainModeDisagreement = Metric(
        "train_mode_disagreement", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "", report: "train-mode disagreement", sentence: ""),
        meaning: "% of test predictions that differ between two identical train-mode passes (dropout draws new masks)")
    public static let evalModeDisagreement = Metric(
        "eval_mode_disagreement", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "", report: "", sentence: ""),
        meaning: "the same for two eval-mode passes (0 when eval mode is deterministic)")
    public static let testAccAfterLossyReload = Metric(
        "test_acc_after_lossy_reload", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "eval after a reload without buffers", report: "eval after lossy reload",
                     sentence: "eval mode after a reload that lost the buffers"),
        meaning: "eval-mode test accuracy (%) of a freshly built model into which the trained parameters, and not the BatchNorm buffers, were loaded through a safetensors round trip with `strict=False` (`lossy_reload`): running_mean 0, running_var 1")
    public static let testAccReloadRecalibrated = Metric(
        "test_acc_reload_recalibrated", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "reloaded, then recalibrated", report: "lossy reload, recalibrated",
                     sentence: "the reloaded model recalibrated"),
        meaning: "the same reloaded model after recalibrating its BatchNorm statistics (`recalibrate_*` settings), in eval mode")
    public static let testAccAveraged = Metric(
        "test_acc_averaged", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "averaged weights (eval mode)", report: "test, averaged weights",
                     sentence: "the averaged model in eval mode"),
        meaning: "eval-mode test accuracy (%) of the averaged model (`weight_average` ema or swa), its BatchNorm buffers as `weight_average_buffers` makes them (recalibrated: `update_bn` over the whole training split first); in batches of max(`eval_batch_size`, 64); the live model's is `test_acc_eval_mode`")
    public static let testAccBeforeFinetune = Metric(
        "test_acc_before_finetune", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "eval mode before fine-tuning", report: "test, before fine-tuning",
                     sentence: "eval mode before fine-tuning"),
        meaning: "eval-mode accuracy (%) on the shifted test split (every input + `finetune_shift`, the split that `test_acc_eval_mode` measures after fine-tuning) of the model as the first phase left it, before the classifier was fine-tuned (`finetune_epochs` > 0)")
        .columnOnlyWhereMeasured()
    public static let testAccUnshifted = Metric(
        "test_acc_unshifted", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "eval mode, unshifted test split", report: "unshifted test, after",
                     sentence: "eval mode on the unshifted test split"),
        meaning: "eval-mode accuracy (%) of the fine-tuned model on the unshifted test split: the first phase's distribution, which the frozen layers were trained on (`finetune_epochs` > 0)")
        .columnOnlyWhereMeasured()
    public static let testAccUnshiftedBeforeFinetune = Metric(
        "test_acc_unshifted_before_finetune", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "", report: "unshifted test, before", sentence: "eval mode on the unshifted test split before fine-tuning"),
        meaning: "eval-mode accuracy (%) on the unshifted test split of the model before fine-tuning: the first phase's own result, which a cell without fine-tuning reports as `test_acc_eval_mode` (`finetune_epochs` > 0)")
        .columnOnlyWhereMeasured()
    public static let testAccAssigningBug = Metric(
        "test_acc_assigning_bug", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "n_correct = ... bug", report: "n_correct = ... bug", sentence: "reported by the n_correct = ... loop"),
        meaning: "the accuracy (%) an evaluation loop reports when it writes `n_correct = batch_correct` instead of `+=` (with `n_samples` accumulated correctly), next to the true `test_acc_eval_mode`")
    public static let valAccLastEpoch = Metric(
        "val_acc_last_epoch", .percent, decimals: 2, summarized: true, split: .test,
        shown: Shown(chart: "validation printed at the last epoch", report: "validation, last epoch",
                     sentence: "the last epoch's validation"),
        meaning: "accuracy (%) of the last epoch's validation pass over the test split in batches of `validation_batch_size` (`validation eval` or `train-mode`), as the training loop prints it; empty with `validation off`")
    public static let finalTrainLoss = Metric(
        "final_train_loss", .loss, decimals: 4, summarized: true, split: .train,
        shown: Shown(chart: "", report: "", sentence: ""),
        meaning: "mean cross-entropy over the last epoch's batches")
    public static let testOverlap = Metric(
        "test_overlap", .fraction, decimals: 3, summarized: false, split: .none,
        shown: Shown(chart: "", report: "", sentence: ""),
        meaning: "fraction of the test split that is also in the training split (`split_overlap`)")
    public static let recalibrationSamples = Metric(
        "recalibration_samples", .count, decimals: 0, summarized: false, split: .none,
        shown: Shown(chart: "", report: "", sentence: ""),
        meaning: "how many samples the recalibration used")

    /// Every measured column, in the tables' column order (after `status` and `status_detail`).
    public static let all: [Metric] = [
        .lrUsed, .trainAccRunning, .trainAccEvalMode, .trainAccTrainMode, .testAccTrainMode, .testAccEvalMode, .testAccRecalibrated,
        .testAccBatchStats, .adaptedAccuracy, .testAccMCDropout, .testAccEvalMixedDropout,
        .testAccForgotEval, .testAccEvalAfterForgotEval, .testAccTrainModeClassBlocked,
        .trainModeDisagreement, .evalModeDisagreement, .testAccAfterLossyReload, .testAccReloadRecalibrated,
        .testAccAveraged, .testAccBeforeFinetune, .testAccUnshifted, .testAccUnshiftedBeforeFinetune,
        .testAccAssigningBug, .valAccLastEpoch, .finalTrainLoss, .testOverlap,
        .recalibrationSamples,
    ]

    /// The metric named `name` (a column of the tables), if any.
    public static func named(_ name: String) -> Metric? { all.first { $0.name == name } }
}

/// The difference of two measures of one cell, taken per seed and then summarized over seeds
/// with its own interval. Both measures come from the same trained model, so the paired
/// interval is the honest one, and much narrower than the two intervals side by side: the
/// seed-to-seed spread of the model cancels in the difference.
public struct PairedDifference: Hashable, Sendable {
    /// The summary column stem (`<name>_mean`, `<name>_std`, `<name>_ci95`).
    public let name: String
    public let minuend: Metric
    public let subtrahend: Metric
    /// How the report's sentences name it.
    public let sentenceName: String

    public init(_ name: String, _ minuend: Metric, minus subtrahend: Metric, sentence: String) {
        self.name = name; self.minuend = minuend; self.subtrahend = subtrahend; self.sentenceName = sentence
    }

    /// Whether the tables have its columns only where some cell measured it: when either measure has.
    public var hasColumnOnlyWhereMeasured: Bool {
        minuend.hasColumnOnlyWhereMeasured || subtrahend.hasColumnOnlyWhereMeasured
    }

    /// The column dictionary entry (Results/README.md).
    public var meaning: String {
        "per seed, `\(minuend.name)` minus `\(subtrahend.name)` (points), then mean, std and 95% CI over seeds"
    }

    /// `minuend - subtrahend` of one record's measured values; nil when either is missing or not a number.
    public func value(_ values: (Metric) -> Double?) -> Double? {
        guard let a = values(minuend), let b = values(subtrahend), !a.isNaN, !b.isNaN else { return nil }
        return a - b
    }
}

extension PairedDifference {
    public static let trainMinusEval = PairedDifference(
        "train_mode_minus_eval_mode", .testAccTrainMode, minus: .testAccEvalMode, sentence: "train mode minus eval mode")
    public static let recalibratedMinusEval = PairedDifference(
        "recalibrated_minus_eval_mode", .testAccRecalibrated, minus: .testAccEvalMode,
        sentence: "recalibrated minus eval mode")
    public static let batchStatsMinusEval = PairedDifference(
        "batch_stats_minus_eval_mode", .testAccBatchStats, minus: .testAccEvalMode,
        sentence: "batch statistics minus eval mode")

    public static let mixedDropoutMinusEval = PairedDifference(
        "mixed_dropout_minus_eval_mode", .testAccEvalMixedDropout, minus: .testAccEvalMode,
        sentence: "eval mode with the other dropout convention's eval rule minus eval mode")

    public static let adaptedMinusEval = PairedDifference(
        "adapted_minus_eval_mode", .adaptedAccuracy, minus: .testAccEvalMode, sentence: "adapted with a prior minus eval mode")

    public static let evalAfterForgotMinusEval = PairedDifference(
        "eval_after_forgot_minus_eval_mode", .testAccEvalAfterForgotEval, minus: .testAccEvalMode,
        sentence: "eval mode after the forgotten eval() minus eval mode before it")
    public static let classBlockedMinusEval = PairedDifference(
        "class_blocked_train_mode_minus_eval_mode", .testAccTrainModeClassBlocked, minus: .testAccEvalMode,
        sentence: "train mode over class-blocked test batches minus eval mode")

    public static let reloadMinusEval = PairedDifference(
        "lossy_reload_minus_eval_mode", .testAccAfterLossyReload, minus: .testAccEvalMode,
        sentence: "eval mode after the lossy reload minus eval mode before it")

    public static let averagedMinusEval = PairedDifference(
        "averaged_minus_eval_mode", .testAccAveraged, minus: .testAccEvalMode,
        sentence: "the averaged model minus the live model, both in eval mode")

    public static let fineTuneGain = PairedDifference(
        "eval_mode_minus_before_finetune", .testAccEvalMode, minus: .testAccBeforeFinetune,
        sentence: "eval mode on the shifted test split after fine-tuning minus before it")
    public static let unshiftedChange = PairedDifference(
        "unshifted_minus_before_finetune", .testAccUnshifted, minus: .testAccUnshiftedBeforeFinetune,
        sentence: "eval mode on the unshifted test split after fine-tuning minus before it")

    /// Every paired difference of the summary, in column order (after the metrics).
    public static let all: [PairedDifference] = [.trainMinusEval, .recalibratedMinusEval, .batchStatsMinusEval,
                                                 .adaptedMinusEval, .mixedDropoutMinusEval, .evalAfterForgotMinusEval, .classBlockedMinusEval,
                                                 .reloadMinusEval, .averagedMinusEval, .fineTuneGain, .unshiftedChange]
}
