import BNLabCLI
import Foundation
import XCTest

/// `bnlab run` end to end, in process: a tiny spec (shapes, 60 training and 30 test images,
/// one conv block of 4 channels, one epoch, batch sizes 2 and 4, seeds 0 and 1, with dropout,
/// MC-dropout, forgot-eval and the assigning-counter bug switched on so that every column is
/// filled), and the WHOLE text of the three tables it writes compared with the golden texts below.
///
/// The golden texts are the harness's output at the commit that added them, checked by hand
/// for sanity: accuracies within 0-100 (near chance, 33.33%: one epoch on 60 images), every
/// status ok, lr_used 0.05 (no scaling), 60 recalibration samples, eval-mode disagreement 0,
/// the assigning bug a multiple of 1/30 (the last eval batch of 6 over 30 samples), and the
/// recalibrated statistics errors 0 (the only BatchNorm sees the conv output, whose population
/// statistics over the training split are exactly what the population estimator recovers).
/// The numbers depend on Float32 rounding in the BLAS kernels; a machine whose OpenBLAS picks
/// other kernels may differ in the last digit. This test
/// fails on ANY change of a number, on purpose: a change in the data, the layers, the
/// training loop, the measurements or the formatting must be seen and accepted explicitly.
/// To regenerate after an intended change: run this test, and copy the "actual" texts that
/// the failure messages print over the golden strings (wall_seconds, the one column that
/// differs between runs, is removed before comparing).
final class EndToEndTests: XCTestCase {
    static let spec = """
    # e2e: a tiny sweep for the end-to-end test
    dataset shapes size=16 noise=0.25
    train_split 60
    test_split 30
    model cnn channels=4
    dropout 0.25
    optimizer sgd lr=0.05 momentum=0.9
    epochs 1
    eval_batch_size 8
    recalibrate_batch_size 4
    mc_samples 2
    forgot_eval on
    metric_bug on
    sweep batch_size 2 4
    seeds 0 1

    """

    static let goldenResults = """
    spec,jitter_apply,split_overlap,test_normalize,test_storage,order,norm,groups,momentum,\
    momentum_convention,track_running_stats,ghost_batch_size,shared_bn,devices,device_bn,\
    frozen_bn_epochs,dropout,dropout_convention,dropout_in_eval,drop_path,epochs,steps,budget_factor,\
    batch_size,validation,validation_batch_size,weight_average,ema_decay,weight_average_buffers,\
    finetune_epochs,finetune_shift,freeze,lr,eval_batch_size,recalibrate_samples,recalibrate_batch_size,\
    recalibrate_estimator,recalibrate_data,adapt_prior,mc_samples,forgot_eval_batches,forgot_eval_shift,\
    seed,status,status_detail,lr_used,train_acc_running,train_acc_eval_mode,train_acc_train_mode,\
    test_acc_train_mode,test_acc_eval_mode,test_acc_recalibrated,test_acc_batch_stats,adapted_accuracy,\
    test_acc_mc_dropout,test_acc_eval_mixed_dropout,test_acc_forgot_eval,\
    test_acc_eval_after_forgot_eval,test_acc_train_mode_class_blocked,train_mode_disagreement,\
    eval_mode_disagreement,test_acc_after_lossy_reload,test_acc_reload_recalibrated,test_acc_averaged,\
    test_acc_before_finetune,test_acc_unshifted,test_acc_unshifted_before_finetune,\
    test_acc_assigning_bug,val_acc_last_epoch,final_train_loss,test_overlap,recalibration_samples
    e2e,,0,same,lossless,shuffled,batch,8,0.1,pytorch,on,off,off,1,,0,0.25,inverted,off,0,1,0,1,2,off,,\
    off,,,0,,,0.05,8,all,4,population,train,off,2,all,0,0,ok,,0.050000,28.33,33.33,,33.33,33.33,33.33,\
    33.33,,33.33,,33.33,33.33,,0.00,0.00,,,,,,,3.33,,1.9438,0.000,60
    e2e,,0,same,lossless,shuffled,batch,8,0.1,pytorch,on,off,off,1,,0,0.25,inverted,off,0,1,0,1,2,off,,\
    off,,,0,,,0.05,8,all,4,population,train,off,2,all,0,1,ok,,0.050000,36.67,33.33,,33.33,33.33,33.33,\
    33.33,,33.33,,33.33,33.33,,0.00,0.00,,,,,,,3.33,,1.6327,0.000,60
    e2e,,0,same,lossless,shuffled,batch,8,0.1,pytorch,on,off,off,1,,0,0.25,inverted,off,0,1,0,1,4,off,,\
    off,,,0,,,0.05,8,all,4,population,train,off,2,all,0,0,ok,,0.050000,25.00,25.00,,30.00,23.33,33.33,\
    33.33,,33.33,,33.33,40.00,,30.00,0.00,,,,,,,6.67,,2.0311,0.000,60
    e2e,,0,same,lossless,shuffled,batch,8,0.1,pytorch,on,off,off,1,,0,0.25,inverted,off,0,1,0,1,4,off,,\
    off,,,0,,,0.05,8,all,4,population,train,off,2,all,0,1,ok,,0.050000,26.67,31.67,,26.67,33.33,26.67,\
    26.67,,33.33,,26.67,30.00,,36.67,0.00,,,,,,,3.33,,1.9420,0.000,60
    
    """

    /// The summary of goldenResults: means, sample stds, 95% CI half-widths (t_{0.975,1} * std / sqrt 2)
    /// and the paired differences, checked against an independent computation with scipy.stats.t from
    /// the rows above (equal but for final_train_loss at batch 2: (1.9438 + 1.6327) / 2 = 1.78825, a
    /// rounding tie that Python's float formatting rounds up and bnlab's half-even rule down).
    static let goldenSummary = """
    spec,jitter_apply,split_overlap,test_normalize,test_storage,order,norm,groups,momentum,\
    momentum_convention,track_running_stats,ghost_batch_size,shared_bn,devices,device_bn,\
    frozen_bn_epochs,dropout,dropout_convention,dropout_in_eval,drop_path,epochs,steps,budget_factor,\
    batch_size,validation,validation_batch_size,weight_average,ema_decay,weight_average_buffers,\
    finetune_epochs,finetune_shift,freeze,lr,eval_batch_size,recalibrate_samples,recalibrate_batch_size,\
    recalibrate_estimator,recalibrate_data,adapt_prior,mc_samples,forgot_eval_batches,forgot_eval_shift,\
    seeds,ok,train_acc_running_mean,train_acc_running_std,train_acc_running_ci95,\
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
    test_acc_averaged_ci95,test_acc_before_finetune_mean,test_acc_before_finetune_std,\
    test_acc_before_finetune_ci95,test_acc_unshifted_mean,test_acc_unshifted_std,\
    test_acc_unshifted_ci95,test_acc_unshifted_before_finetune_mean,\
    test_acc_unshifted_before_finetune_std,test_acc_unshifted_before_finetune_ci95,\
    test_acc_assigning_bug_mean,test_acc_assigning_bug_std,test_acc_assigning_bug_ci95,\
    val_acc_last_epoch_mean,val_acc_last_epoch_std,val_acc_last_epoch_ci95,final_train_loss_mean,\
    final_train_loss_std,final_train_loss_ci95,train_mode_minus_eval_mode_mean,\
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
    averaged_minus_eval_mode_ci95,eval_mode_minus_before_finetune_mean,\
    eval_mode_minus_before_finetune_std,eval_mode_minus_before_finetune_ci95,\
    unshifted_minus_before_finetune_mean,unshifted_minus_before_finetune_std,\
    unshifted_minus_before_finetune_ci95
    e2e,,0,same,lossless,shuffled,batch,8,0.1,pytorch,on,off,off,1,,0,0.25,inverted,off,0,1,0,1,2,off,,\
    off,,,0,,,0.05,8,all,4,population,train,off,2,all,0,2,2,32.50,5.90,52.98,33.33,0.00,0.00,,,,33.33,\
    0.00,0.00,33.33,0.00,0.00,33.33,0.00,0.00,33.33,0.00,0.00,,,,33.33,0.00,0.00,,,,33.33,0.00,0.00,\
    33.33,0.00,0.00,,,,0.00,0.00,0.00,0.00,0.00,0.00,,,,,,,,,,,,,,,,,,,3.33,0.00,0.00,,,,1.7882,0.2200,\
    1.9765,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00,,,,,,,0.00,0.00,0.00,,,,,,,,,,,,,,,
    e2e,,0,same,lossless,shuffled,batch,8,0.1,pytorch,on,off,off,1,,0,0.25,inverted,off,0,1,0,1,4,off,,\
    off,,,0,,,0.05,8,all,4,population,train,off,2,all,0,2,2,25.84,1.18,10.61,28.34,4.72,42.38,,,,28.34,\
    2.35,21.16,28.33,7.07,63.53,30.00,4.71,42.31,30.00,4.71,42.31,,,,33.33,0.00,0.00,,,,30.00,4.71,\
    42.31,35.00,7.07,63.53,,,,33.34,4.72,42.38,0.00,0.00,0.00,,,,,,,,,,,,,,,,,,,5.00,2.36,21.22,,,,\
    1.9865,0.0630,0.5661,0.01,9.43,84.69,1.67,11.78,105.84,1.67,11.78,105.84,,,,,,,6.67,14.14,127.06,,,,\
    ,,,,,,,,,,,
    
    """

    static let goldenStatistics = """
    spec,jitter_apply,split_overlap,test_normalize,test_storage,order,norm,groups,momentum,\
    momentum_convention,track_running_stats,ghost_batch_size,shared_bn,devices,device_bn,\
    frozen_bn_epochs,dropout,dropout_convention,dropout_in_eval,drop_path,epochs,steps,budget_factor,\
    batch_size,validation,validation_batch_size,weight_average,ema_decay,weight_average_buffers,\
    finetune_epochs,finetune_shift,freeze,lr,eval_batch_size,recalibrate_samples,recalibrate_batch_size,\
    recalibrate_estimator,recalibrate_data,adapt_prior,mc_samples,forgot_eval_batches,forgot_eval_shift,\
    seed,layer_index,layer,channels,running_mean_error,running_var_error,recalibrated_mean_error,\
    recalibrated_var_error
    e2e,,0,same,lossless,shuffled,batch,8,0.1,pytorch,on,off,off,1,,0,0.25,inverted,off,0,1,0,1,2,off,,\
    off,,,0,,,0.05,8,all,4,population,train,off,2,all,0,0,0,"BatchNorm(4, momentum=0.1)",4,0.05033,\
    0.33676,0.00000,0.00000
    e2e,,0,same,lossless,shuffled,batch,8,0.1,pytorch,on,off,off,1,,0,0.25,inverted,off,0,1,0,1,2,off,,\
    off,,,0,,,0.05,8,all,4,population,train,off,2,all,0,1,0,"BatchNorm(4, momentum=0.1)",4,0.00752,\
    0.32872,0.00000,0.00000
    e2e,,0,same,lossless,shuffled,batch,8,0.1,pytorch,on,off,off,1,,0,0.25,inverted,off,0,1,0,1,4,off,,\
    off,,,0,,,0.05,8,all,4,population,train,off,2,all,0,0,0,"BatchNorm(4, momentum=0.1)",4,0.05882,\
    0.52380,0.00000,0.00000
    e2e,,0,same,lossless,shuffled,batch,8,0.1,pytorch,on,off,off,1,,0,0.25,inverted,off,0,1,0,1,4,off,,\
    off,,,0,,,0.05,8,all,4,population,train,off,2,all,0,1,0,"BatchNorm(4, momentum=0.1)",4,0.01711,\
    0.61984,0.00000,0.00000
    
    """

    var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("bnlab-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `text` without its last column, which must be `wall_seconds`.
    func withoutWallSeconds(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertTrue(lines.first?.hasSuffix(",wall_seconds") ?? false, "last column is wall_seconds", file: file, line: line)
        return lines.map { row in row.lastIndex(of: ",").map { String(row[..<$0]) } ?? String(row) }.joined(separator: "\n")
    }

    func testRunWritesTheGoldenTables() throws {
        let specPath = directory + "/e2e.spec"
        try Self.spec.write(toFile: specPath, atomically: true, encoding: .utf8)
        let out = directory + "/results"
        XCTAssertEqual(BNLab.main(["run", specPath, "--out", out, "--quiet"]), 0)

        func read(_ name: String) throws -> String { try String(contentsOfFile: out + "/" + name, encoding: .utf8) }
        let results = withoutWallSeconds(try read("e2e.csv"))
        let summary = try read("e2e-summary.csv")
        let statistics = try read("e2e-bnstats.csv")
        XCTAssertEqual(results, Self.goldenResults, "actual e2e.csv without wall_seconds:\n\(results)")
        XCTAssertEqual(summary, Self.goldenSummary, "actual e2e-summary.csv:\n\(summary)")
        XCTAssertEqual(statistics, Self.goldenStatistics, "actual e2e-bnstats.csv:\n\(statistics)")
        XCTAssertTrue(try read("e2e.md").hasPrefix("# e2e\n\ne2e: a tiny sweep for the end-to-end test\n"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/e2e-accuracy.svg"))
    }
}
