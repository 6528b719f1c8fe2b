import XCTest
@testable import SpecFormat

/// Settings under which a measured column can never be filled are accepted with a warning that names
/// the column and why: BatchNorm1d (an mlp with norm batch or batchrenorm) refuses a batch with one
/// value per channel, as PyTorch does, so a pass with a batch of one sample leaves its column empty;
/// and a recalibrate_batch_size above the recalibration samples does not act as written.
final class SpecColumnWarningsTests: XCTestCase {
    static let mlp = "model mlp widths=4\ntrain_split 20\ntest_split 10\nbatch_size 4\n"
    static let refusal = ", and BatchNorm1d refuses a batch with one value per channel (as PyTorch does)"

    func warnings(_ text: String) throws -> [String] { try parseSpec(text).warnings.map(\.description) }

    /// Asserts that `text` earns exactly one warning: `expected`, then BatchNorm1d's refusal.
    func assertRefusal(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try warnings(text), [expected + Self.refusal], file: file, line: line)
    }

    func testEvalBatchSizeOneLeavesTheBatchStatisticsColumnEmpty() throws {
        try assertRefusal(Self.mlp + "eval_batch_size 1\n",
            "t.spec:5:17: warning: eval_batch_size 1 with model mlp leaves test_acc_batch_stats empty: every batch of"
                + " the batch-statistics pass over the 10 test samples holds one sample")
        try assertRefusal(Self.mlp + "eval_batch_size 3\nforgot_eval on\n",
            "t.spec:5:17: warning: eval_batch_size 3 with model mlp leaves test_acc_batch_stats, test_acc_forgot_eval,"
                + " test_acc_eval_after_forgot_eval, train_mode_disagreement, eval_mode_disagreement empty: the last"
                + " batch of the batch-statistics pass over the 10 test samples holds one sample (10 = 3 x 3 + 1)")
    }

    func testTheTrainModePassAndTheRecalibrationPass() throws {
        try assertRefusal(Self.mlp.replacingOccurrences(of: "test_split 10", with: "test_split 9"),
            "t.spec:4:12: warning: batch_size 4 with model mlp leaves test_acc_train_mode empty: the last batch of the"
                + " train-mode pass over the 9 test samples holds one sample (9 = 2 x 4 + 1)")
        try assertRefusal(Self.mlp + "recalibrate_samples 5\nrecalibrate_batch_size 2\n",
            "t.spec:6:24: warning: recalibrate_batch_size 2 with model mlp leaves test_acc_recalibrated empty: the"
                + " last batch of the recalibration pass over 5 samples holds one sample (5 = 2 x 2 + 1)")
        try assertRefusal(Self.mlp + "recalibrate_samples 1\n",
            "t.spec:5:21: warning: recalibrate_samples 1 with model mlp leaves test_acc_recalibrated empty: the"
                + " recalibration pass over 1 sample is one batch of one sample")
    }

    /// Training itself refused: one warning for the cell, not one per column.
    func testATrainingBatchOfOneSampleLeavesEveryColumnEmpty() throws {
        try assertRefusal(Self.mlp.replacingOccurrences(of: "batch_size 4", with: "batch_size 1"),
            "t.spec:4:12: warning: batch_size 1 with model mlp leaves every measured column empty (status invalid):"
                + " every batch of the training pass over the 20 training samples holds one sample")
        try assertRefusal(Self.mlp + "ghost_batch_size 3\n",
            "t.spec:5:18: warning: ghost_batch_size 3 with model mlp leaves every measured column empty (status"
                + " invalid): the training pass over the 20 training samples splits its batches of 4 into ghost batches"
                + " of 3, the last of one sample")
        try assertRefusal(Self.mlp + "track_running_stats off\neval_batch_size 1\n",
            "t.spec:6:17: warning: eval_batch_size 1 with model mlp leaves every measured column empty (status"
                + " invalid): every batch of the eval-mode pass over the 10 test samples (track_running_stats off:"
                + " batch statistics) holds one sample")
    }

    func testARecalibrationBatchLargerThanItsSamples() throws {
        let cnn = "dataset shapes size=12\nmodel cnn channels=4\ntrain_split 20\ntest_split 10\nbatch_size 4\n"
        XCTAssertEqual(try warnings(cnn + "recalibrate_batch_size 64\n"), [
            "t.spec:6:24: warning: recalibrate_batch_size 64 exceeds the 20 recalibration samples: the recalibration"
                + " is one batch of 20 samples, not batches of 64",
        ])
        XCTAssertEqual(try warnings(cnn + "recalibrate_batch_size 64\nsweep recalibrate_samples 8 16 all\n"), [
            "t.spec:6:24: warning: recalibrate_batch_size 64 exceeds the 8, 16 or 20 recalibration samples of its"
                + " cells: each recalibrates in one batch of all its samples, not in batches of 64",
        ])
        XCTAssertEqual(try warnings(cnn + "recalibrate_batch_size 64\nnorm group\ngroups 2\n"), [],
                       "no running statistics, nothing to recalibrate")
    }

    /// Only BatchNorm1d meets one value per channel: a cnn's BatchNorm2d sees H * W >= 4 values of
    /// one sample, and GroupNorm and LayerNorm normalize each sample on its own.
    func testNoWarningWhereTheLayersAcceptTheBatch() throws {
        let cnn = "dataset shapes size=12\nmodel cnn channels=4\ntrain_split 20\ntest_split 10\nbatch_size 1\n"
        XCTAssertEqual(try warnings(cnn + "eval_batch_size 1\nrecalibrate_batch_size 1\n"), [])
        XCTAssertEqual(try warnings(Self.mlp + "eval_batch_size 1\nnorm layer\n"), [])
        XCTAssertEqual(try warnings(Self.mlp + "eval_batch_size 2\n"), [])
    }

    /// A warning that only the --quick grid earns says so.
    func testAQuickOnlyWarningSaysQuick() throws {
        XCTAssertEqual(try warnings(Self.mlp + "eval_batch_size 4\nquick test_split=9\n"), [
            "t.spec:4:12: warning: with --quick: batch_size 4 with model mlp leaves test_acc_train_mode empty: the"
                + " last batch of the train-mode pass over the 9 test samples holds one sample (9 = 2 x 4 + 1)"
                + Self.refusal,
            "t.spec:5:17: warning: with --quick: eval_batch_size 4 with model mlp leaves test_acc_batch_stats empty:"
                + " the last batch of the batch-statistics pass over the 9 test samples holds one sample (9 = 2 x 4 + 1)"
                + Self.refusal,
        ])
    }
}
