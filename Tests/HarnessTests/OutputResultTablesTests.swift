@testable import Charts
@testable import Experiment
@testable import Reports
import Foundation
import XCTest

/// The three tables of `SampleRecords` (2 cells x 2 seeds), compared as whole texts.
///
/// Summary by hand (sample standard deviation, n - 1; two values a, b: |a - b| / sqrt 2):
/// - batch 2: train running 90, 93 -> 91.50 +- 2.12; train eval 80, 82 -> 81.00 +- 1.41;
///   test train mode 85, 87 -> 86.00 +- 1.41; eval 50, 60 -> 55.00 +- 7.07;
///   recalibrated 70, 72 -> 71.00 +- 1.41; batch stats 60, 64 -> 62.00 +- 2.83;
///   loss 0.5, 0.25 -> 0.3750 +- 0.1768.
/// - batch 4 (seed 1 diverged, 1 of 2 ok): train running 95, 40 -> 67.50 +- 38.89;
///   train eval 94, nan -> 94.00 (nan left out, one value: no std); test train mode 91, 25
///   -> 58.00 +- 46.67; eval 89, 30 -> 59.50 +- 41.72; recalibrated 90, 35 -> 62.50 +- 38.89;
///   batch stats 88, 20 -> 54.00 +- 48.08; loss 0.125, nan -> 0.1250.
/// 95% CI half-widths: t_{0.975, 1} * std / sqrt 2 = 8.985 * std (12.706 / 1.414); paired differences per
/// seed (train mode, recalibrated, batch stats minus eval mode: 35, 27 -> 31.00; 20, 12 -> 16.00; 10, 4 -> 7.00;
/// 2, -5 -> -1.50; 1, 5 -> 3.00; -1, -10 -> -5.50). Values computed independently with scipy.stats.t.
/// Unmeasured columns (MC-dropout, forgot-eval, ...) stay empty in every table.
final class OutputResultTablesTests: XCTestCase {
    static let results = """
    spec,batch_size,seed,status,status_detail,lr_used,train_acc_running,train_acc_eval_mode,\
    train_acc_train_mode,test_acc_train_mode,test_acc_eval_mode,test_acc_recalibrated,\
    test_acc_batch_stats,adapted_accuracy,test_acc_mc_dropout,test_acc_eval_mixed_dropout,\
    test_acc_forgot_eval,test_acc_eval_after_forgot_eval,test_acc_train_mode_class_blocked,\
    train_mode_disagreement,eval_mode_disagreement,test_acc_after_lossy_reload,\
    test_acc_reload_recalibrated,test_acc_averaged,test_acc_assigning_bug,val_acc_last_epoch,\
    final_train_loss,test_overlap,recalibration_samples,wall_seconds
    tiny,2,0,ok,,0.010000,90.00,80.00,,85.00,50.00,70.00,60.00,,,,,,,,,,,,,,0.5000,0.000,60,1.23
    tiny,2,1,ok,,0.010000,93.00,82.00,,87.00,60.00,72.00,64.00,,,,,,,,,,,,,,0.2500,0.000,60,2.50
    tiny,4,0,ok,,0.020000,95.00,94.00,,91.00,89.00,90.00,88.00,,,,,,,,,,,,,,0.1250,0.000,60,0.75
    tiny,4,1,diverged,non-finite loss at epoch 1 step 3,0.020000,40.00,nan,,25.00,30.00,35.00,20.00,,,,,\
    ,,,,,,,,,nan,0.000,60,0.50
    
    """

    static let summary = """
    spec,batch_size,seeds,ok,train_acc_running_mean,train_acc_running_std,train_acc_running_ci95,\
    train_acc_eval_mode_mean,train_acc_eval_mode_std,train_acc_eval_mode_ci95,train_acc_train_mode_mean,\
    train_acc_train_mode_std,train_acc_train_mode_ci95,test_acc_train_mode_mean,test_acc_train_mode_std,\
    test_acc_train_mode_ci95,test_acc_eval_mode_mean,test_acc_eval_mode_std,test_acc_eval_mode_ci95,\
    test_acc_recalibrated_mean,test_acc_recalibrated_std,test_acc_recalibrated_ci95,\
    test_acc_batch_stats_mean,test_acc_batch_stats_std,test_acc_batch_stats_ci95,adapted_accuracy_mean,\
    adapted_accuracy_std,adapted_accuracy_ci95,test_acc_mc_dropout_mean,test_acc_mc_dropout_std,\
    test_acc_mc_dropout_ci95,test_acc_eval_mixed_dropout_mean,test_acc_eval_mixed_dropout_std,\
    test_acc_eval_mixed_dropout_ci95,test_acc_forgot_eval_mean,test_acc_forgot_eval_std,\
    test_acc_forgot_eval_ci95,test_acc_eval_after_forgot_eval_mean,test_acc_eval_after_forgot_eval_std,\
    test_acc_eval_after_forgot_eval_ci95,test_acc_train_mode_class_blocked_mean,\
    test_acc_train_mode_class_blocked_std,test_acc_train_mode_class_blocked_ci95,\
    train_mode_disagreement_mean,train_mode_disagreement_std,train_mode_disagreement_ci95,\
    eval_mode_disagreement_mean,eval_mode_disagreement_std,eval_mode_disagreement_ci95,\
    test_acc_after_lossy_reload_mean,test_acc_after_lossy_reload_std,test_acc_after_lossy_reload_ci95,\
    test_acc_reload_recalibrated_mean,test_acc_reload_recalibrated_std,\
    test_acc_reload_recalibrated_ci95,test_acc_averaged_mean,test_acc_averaged_std,\
    test_acc_averaged_ci95,test_acc_assigning_bug_mean,test_acc_assigning_bug_std,\
    test_acc_assigning_bug_ci95,val_acc_last_epoch_mean,val_acc_last_epoch_std,val_acc_last_epoch_ci95,\
    final_train_loss_mean,final_train_loss_std,final_train_loss_ci95,train_mode_minus_eval_mode_mean,\
    train_mode_minus_eval_mode_std,train_mode_minus_eval_mode_ci95,recalibrated_minus_eval_mode_mean,\
    recalibrated_minus_eval_mode_std,recalibrated_minus_eval_mode_ci95,batch_stats_minus_eval_mode_mean,\
    batch_stats_minus_eval_mode_std,batch_stats_minus_eval_mode_ci95,adapted_minus_eval_mode_mean,\
    adapted_minus_eval_mode_std,adapted_minus_eval_mode_ci95,mixed_dropout_minus_eval_mode_mean,\
    mixed_dropout_minus_eval_mode_std,mixed_dropout_minus_eval_mode_ci95,\
    eval_after_forgot_minus_eval_mode_mean,eval_after_forgot_minus_eval_mode_std,\
    eval_after_forgot_minus_eval_mode_ci95,class_blocked_train_mode_minus_eval_mode_mean,\
    class_blocked_train_mode_minus_eval_mode_std,class_blocked_train_mode_minus_eval_mode_ci95,\
    lossy_reload_minus_eval_mode_mean,lossy_reload_minus_eval_mode_std,\
    lossy_reload_minus_eval_mode_ci95,averaged_minus_eval_mode_mean,averaged_minus_eval_mode_std,\
    averaged_minus_eval_mode_ci95
    tiny,2,2,2,91.50,2.12,19.06,81.00,1.41,12.71,,,,86.00,1.41,12.71,55.00,7.07,63.53,71.00,1.41,12.71,\
    62.00,2.83,25.41,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,0.3750,0.1768,1.5883,31.00,5.66,50.82,16.00,\
    5.66,50.82,7.00,4.24,38.12,,,,,,,,,,,,,,,,,,
    tiny,4,2,1,67.50,38.89,349.42,94.00,,,,,,58.00,46.67,419.30,59.50,41.72,374.83,62.50,38.89,349.42,\
    54.00,48.08,432.01,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,0.1250,,,-1.50,4.95,44.47,3.00,2.83,25.41,\
    -5.50,6.36,57.18,,,,,,,,,,,,,,,,,,
    
    """

    /// Errors to 5 decimals (0.123456 -> 0.12346); the layer name holds a comma, so it is quoted;
    /// without a recalibrated measurement the last two columns are empty.
    static let statistics = """
    spec,batch_size,seed,layer_index,layer,channels,running_mean_error,running_var_error,\
    recalibrated_mean_error,recalibrated_var_error
    tiny,2,0,0,"BatchNorm(4, momentum=0.1)",4,0.12346,1.50000,0.00100,0.00250
    tiny,2,1,0,"BatchNorm(4, momentum=0.1)",4,0.20000,2.50000,0.00300,0.00350
    tiny,4,0,0,"BatchNorm(4, momentum=0.1)",4,0.05000,0.40000,,
    tiny,4,1,0,"BatchNorm(4, momentum=0.1)",4,nan,inf,,

    """

    func testWholeTables() {
        let tables = SampleRecords.tables  // built from the records in reverse order: sorted by index
        XCTAssertEqual(tables.results, Self.results)
        XCTAssertEqual(tables.summary, Self.summary)
        XCTAssertEqual(tables.statistics, Self.statistics)
    }

    /// A measure with a column only where measured (test_acc_before_finetune): absent from both tables while no
    /// record measures it (the whole tables above), present, with its paired difference, once one record does.
    func testAColumnOnlyWhereMeasuredAppearsWhereMeasured() throws {
        XCTAssertTrue(Metric.testAccBeforeFinetune.hasColumnOnlyWhereMeasured)
        XCTAssertTrue(PairedDifference.fineTuneGain.hasColumnOnlyWhereMeasured)
        XCTAssertFalse(Metric.testAccEvalMode.hasColumnOnlyWhereMeasured)
        XCTAssertFalse(SampleRecords.tables.results.contains("test_acc_before_finetune"))
        XCTAssertFalse(SampleRecords.tables.summary.contains("before_finetune"))
        var records = SampleRecords.records
        let column = try XCTUnwrap(CellRecord.metricColumns.firstIndex(of: "test_acc_before_finetune"))
        records[0].metrics[column] = "40.00"
        let tables = ResultTables(spec: "tiny", records: records)
        let results = Table(csv: tables.results), summary = Table(csv: tables.summary)
        XCTAssertEqual(results.value(results.rows[0], "test_acc_before_finetune"), "40.00")
        XCTAssertEqual(results.value(results.rows[1], "test_acc_before_finetune"), "", "measured by one record only")
        XCTAssertNil(results.value(results.rows[0], "test_acc_unshifted"), "the other new measures stay out")
        XCTAssertEqual(summary.number(summary.rows[0], "test_acc_before_finetune_mean"), 40)
        XCTAssertEqual(summary.number(summary.rows[0], "eval_mode_minus_before_finetune_mean"), 10, "50 - 40, seed 0")
        XCTAssertEqual(results.header.count, Table(csv: SampleRecords.tables.results).header.count + 1)
    }

    func testMeanAndSampleStandardDeviation() throws {
        // 1e-12: a handful of Double operations on values below 100
        let s = SeedStatistics(of: [50, 60]); let (mean, std) = (s.mean, s.std)
        XCTAssertEqual(mean, 55)
        XCTAssertEqual(try XCTUnwrap(std), 50.0.squareRoot(), accuracy: 1e-12)
        let s3 = SeedStatistics(of: [1, 2, 6]); let three = (s3.mean, s3.std)  // mean 3, squared deviations 4 + 1 + 9 = 14, / 2
        XCTAssertEqual(three.0, 3)
        XCTAssertEqual(try XCTUnwrap(three.1), 7.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(SeedStatistics(of: [4]).mean, 4)
        XCTAssertNil(SeedStatistics(of: [4]).std)
        XCTAssertNil(SeedStatistics(of: []).mean)
    }

    func testWriteProducesTheThreeFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bnlab-tables-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try SampleRecords.tables.write(spec: "tiny", to: directory)
        XCTAssertEqual(try String(contentsOfFile: directory + "/tiny.csv", encoding: .utf8), Self.results)
        XCTAssertEqual(try String(contentsOfFile: directory + "/tiny-summary.csv", encoding: .utf8), Self.summary)
        XCTAssertEqual(try String(contentsOfFile: directory + "/tiny-bnstats.csv", encoding: .utf8), Self.statistics)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).sorted(),
                       ["tiny-bnstats.csv", "tiny-summary.csv", "tiny.csv"])
    }

    func testTablesReadBackAsWritten() {
        let table = Table(csv: Self.statistics)
        XCTAssertEqual(table.rows.count, 4)
        XCTAssertEqual(table.value(table.rows[0], "layer"), SampleRecords.layer)
        XCTAssertEqual(table.number(table.rows[0], "running_mean_error"), 0.12346)
        XCTAssertNil(table.number(table.rows[3], "running_mean_error"), "nan is not a number for charts")
        XCTAssertNil(table.number(table.rows[3], "recalibrated_var_error"), "empty")
        XCTAssertNil(table.value(table.rows[0], "no_such_column"))
    }
}
