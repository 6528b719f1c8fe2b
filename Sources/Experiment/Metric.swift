/// One measured column of a cell's result row, declared once: the result tables, the summary, the
/// charts, the report and the column dictionary in Results/README.md all read it from ``Metric/all``.
///
/// Adding a measured column is one entry in ``Metric/all`` (with its `static let`) plus the code in
/// ``CellRunner`` that computes it (`measurements[.name] = value`). Everything else follows:
/// - `<spec>.csv` gets the column, in this table's order, formatted with `decimals` digits;
/// - `<spec>-summary.csv` gets `<name>_mean` and `<name>_std` over seeds when `summarized`;
/// - the accuracy chart draws a curve when `chartLabel` is set (test-split measures first, then
///   training-split ones, so the test curves keep their colours);
/// - the report's summary table shows a column when `reportHeading` is set, and its sentences name
///   the measure when `sentenceName` is set;
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

    /// The column name in the tables.
    public let name: String
    public let unit: Unit
    /// Digits after the point in the tables (row and summary).
    public let decimals: Int
    /// Whether the summary averages it over seeds (`<name>_mean`, `<name>_std`).
    public let summarized: Bool
    public let split: Split?
    /// The curve's legend in the accuracy chart; nil = not drawn.
    public let chartLabel: String?
    /// The column heading in the report's summary table; nil = not shown.
    public let reportHeading: String?
    /// How the report's sentences name the measure; nil = not named.
    public let sentenceName: String?
    /// The column dictionary entry (Results/README.md).
    public let meaning: String

    public static func == (a: Metric, b: Metric) -> Bool { a.name == b.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}

extension Metric {
    public static let lrUsed = Metric(
        name: "lr_used", unit: .learningRate, decimals: 6, summarized: false, split: nil,
        chartLabel: nil, reportHeading: nil, sentenceName: nil,
        meaning: "the learning rate after `lr_scaling`")
    public static let trainAccRunning = Metric(
        name: "train_acc_running", unit: .percent, decimals: 2, summarized: true, split: .train,
        chartLabel: "printed while training (train split)", reportHeading: "train (running)", sentenceName: nil,
        meaning: "accuracy (%) accumulated over the last training epoch in train mode, before each step's update: what a training loop prints")
    public static let trainAccEvalMode = Metric(
        name: "train_acc_eval_mode", unit: .percent, decimals: 2, summarized: true, split: .train,
        chartLabel: nil, reportHeading: nil, sentenceName: nil,
        meaning: "accuracy (%) on the training split in eval mode (running statistics)")
    public static let testAccTrainMode = Metric(
        name: "test_acc_train_mode", unit: .percent, decimals: 2, summarized: true, split: .test,
        chartLabel: "train mode (batch stats)", reportHeading: "test, train mode", sentenceName: "train mode",
        meaning: "test accuracy (%) in train mode: BatchNorm on batch statistics over test batches of the **training** batch size, dropout off, running statistics untouched (measured on a copy)")
    public static let testAccEvalMode = Metric(
        name: "test_acc_eval_mode", unit: .percent, decimals: 2, summarized: true, split: .test,
        chartLabel: "eval mode (running stats)", reportHeading: "test, eval mode", sentenceName: "eval mode",
        meaning: "test accuracy (%) in eval mode: BatchNorm on its running statistics, dropout off; in batches of max(`eval_batch_size`, 64) (eval mode does not depend on the batch size), or of `eval_batch_size` itself with `track_running_stats off`, where eval mode normalizes with batch statistics")
    public static let testAccRecalibrated = Metric(
        name: "test_acc_recalibrated", unit: .percent, decimals: 2, summarized: true, split: .test,
        chartLabel: "recalibrated BN", reportHeading: "test, recalibrated", sentenceName: "recalibrated",
        meaning: "test accuracy (%) in eval mode after re-estimating the BatchNorm statistics with frozen weights on a copy of the model (`recalibrate_*` settings: samples, batch size, estimator, data)")
    public static let testAccBatchStats = Metric(
        name: "test_acc_batch_stats", unit: .percent, decimals: 2, summarized: true, split: .test,
        chartLabel: "batch stats at eval batch size", reportHeading: "test, batch stats", sentenceName: "batch statistics at the eval batch size",
        meaning: "test accuracy (%) with batch statistics over test batches of `eval_batch_size` (PyTorch's `track_running_stats=False`)")
    public static let testAccMCDropout = Metric(
        name: "test_acc_mc_dropout", unit: .percent, decimals: 2, summarized: true, split: .test,
        chartLabel: "MC-dropout", reportHeading: "test, MC-dropout", sentenceName: "MC-dropout",
        meaning: "Monte-Carlo dropout: accuracy (%) of the softmax averaged over `mc_samples` passes with dropout on and BatchNorm in eval mode")
    public static let testAccForgotEval = Metric(
        name: "test_acc_forgot_eval", unit: .percent, decimals: 2, summarized: true, split: .test,
        chartLabel: "forgot eval() (train mode)", reportHeading: "test, forgot eval()", sentenceName: "with eval() forgotten",
        meaning: "accuracy (%) printed by an evaluation that forgot `model.eval()`: the whole model in train mode over the test set in batches of `eval_batch_size` (dropout on, running statistics updated by the test batches)")
    public static let testAccEvalAfterForgotEval = Metric(
        name: "test_acc_eval_after_forgot_eval", unit: .percent, decimals: 2, summarized: true, split: .test,
        chartLabel: "eval after forgot eval()", reportHeading: "eval after forgot eval()", sentenceName: "eval mode afterwards",
        meaning: "eval-mode test accuracy (%) of that mutated model afterwards")
    public static let trainModeDisagreement = Metric(
        name: "train_mode_disagreement", unit: .percent, decimals: 2, summarized: true, split: .test,
        chartLabel: nil, reportHeading: "train-mode disagreement", sentenceName: nil,
        meaning: "% of test predictions that differ between two identical train-mode passes (dropout draws new masks)")
    public static let evalModeDisagreement = Metric(
        name: "eval_mode_disagreement", unit: .percent, decimals: 2, summarized: true, split: .test,
        chartLabel: nil, reportHeading: nil, sentenceName: nil,
        meaning: "the same for two eval-mode passes (0 when eval mode is deterministic)")
    public static let testAccAssigningBug = Metric(
        name: "test_acc_assigning_bug", unit: .percent, decimals: 2, summarized: true, split: .test,
        chartLabel: "n_correct = ... bug", reportHeading: "n_correct = ... bug", sentenceName: "reported by the n_correct = ... loop",
        meaning: "the accuracy (%) an evaluation loop reports when it writes `n_correct = batch_correct` instead of `+=` (with `n_samples` accumulated correctly), next to the true `test_acc_eval_mode`")
    public static let finalTrainLoss = Metric(
        name: "final_train_loss", unit: .loss, decimals: 4, summarized: true, split: .train,
        chartLabel: nil, reportHeading: nil, sentenceName: nil,
        meaning: "mean cross-entropy over the last epoch's batches")
    public static let testOverlap = Metric(
        name: "test_overlap", unit: .fraction, decimals: 3, summarized: false, split: nil,
        chartLabel: nil, reportHeading: nil, sentenceName: nil,
        meaning: "fraction of the test split that is also in the training split (`split_overlap`)")
    public static let recalibrationSamples = Metric(
        name: "recalibration_samples", unit: .count, decimals: 0, summarized: false, split: nil,
        chartLabel: nil, reportHeading: nil, sentenceName: nil,
        meaning: "how many samples the recalibration used")

    /// Every measured column, in the tables' column order (after `status` and `status_detail`).
    public static let all: [Metric] = [
        .lrUsed, .trainAccRunning, .trainAccEvalMode, .testAccTrainMode, .testAccEvalMode, .testAccRecalibrated,
        .testAccBatchStats, .testAccMCDropout, .testAccForgotEval, .testAccEvalAfterForgotEval,
        .trainModeDisagreement, .evalModeDisagreement, .testAccAssigningBug, .finalTrainLoss, .testOverlap,
        .recalibrationSamples,
    ]

    /// The metric named `name` (a column of the tables), if any.
    public static func named(_ name: String) -> Metric? { all.first { $0.name == name } }
}
