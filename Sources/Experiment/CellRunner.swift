import Datasets
import SpecFormat
import Foundation
import NN
import TensorCore

/// Trains one cell and measures it. Every random draw derives from `cell.seed`.
public enum CellRunner {
    /// The smallest batch of the passes whose batch size is not part of the measurement
    /// (eval mode, the statistics probe, the recalibrated model's evaluation). 64 keeps the
    /// GEMMs wide (64 x 256 pixels on the flagship) while a flagship cell stays under 64 MB
    /// resident: at 256, OpenBLAS's packing buffers and the wider workspaces took a batch-1
    /// cell from 42 MB to 82 MB (measured with /usr/bin/time -v, Benchmarks/RESULTS.md).
    public static let measurementBatchSize = 64

    /// - Parameters:
    ///   - cache: shares trained models between cells that differ only in evaluation settings.
    ///   - observer: watches the training (not called when the trained model comes from `cache`).
    ///   - threads: what every pass of the cell runs on; no number depends on them.
    public static func run(_ cell: Cell, data: PreparedData, cache: TrainedModelCache? = nil,
                           onEpoch: ((Int) -> Void)? = nil, observer: TrainingObserver? = nil,
                           threads: ComputeThreads = .serial) -> CellMeasurements {
        let start = Date()
        var result = CellMeasurements()
        result[.testOverlap] = data.testOverlap
        result[.lrUsed] = cell.learningRate
        result[.recalibrationSamples] = 0
        do {
            let train = {
                try trainModel(cell: cell, data: data, onEpoch: onEpoch, observer: observer, threads: threads)
            }
            let trained = try cache.map { try $0.model(for: TrainedModelCache.Key(cell), train: train) }
                ?? train()
            try measure(cell: cell, data: data, trained: trained, threads: threads, into: &result)
        } catch let error as LayerError {
            result.status = .invalid(error.description)
        } catch {
            result.status = .invalid("\(error)")
        }
        result.wallSeconds = Date().timeIntervalSince(start)
        return result
    }

    /// Builds the model and trains it; every draw derives from `cell.seed`.
    static func trainModel(cell: Cell, data: PreparedData, onEpoch: ((Int) -> Void)?,
                           observer: TrainingObserver? = nil, threads: ComputeThreads = .serial) throws
        -> TrainedModelCache.Entry {
        let root = RandomGenerator(seed: cell.seed)
        let train = data.train
        let model = try buildModel(cell: cell, data: data)
        let optimizer = try cell.optimizer.make(parameters: model.parameters, learningRate: cell.learningRate)
        var shuffleRNG = root.derived("batches")
        let averaging = cell.training.weightAverage.map { WeightAveraging(copying: model, plan: $0) }
        var epochEvaluations: [EpochEvaluation] = []
        let epochFinished: ((Int, Int, Sequential) throws -> Void)? = cell.training.epochEval ? { epoch, _, model in
            epochEvaluations.append(try evaluateEpoch(epoch, model: model, cell: cell, data: data, threads: threads))
        } : nil
        var outcome = try Trainer.train(model: model, optimizer: optimizer, data: train, plan: cell.training,
                                        rng: &shuffleRNG, validationData: data.test, onEpoch: onEpoch,
                                        observer: observer, averaging: averaging, epochFinished: epochFinished,
                                        threads: threads)
        outcome.epochEvaluations = epochEvaluations
        return TrainedModelCache.Entry(model: model, outcome: outcome, averaged: averaging?.model)
    }

    /// `epoch_eval` at the end of `epoch`: the test split in eval mode as the model stands, and a copy
    /// recalibrated by the cell's `recalibrate_*` settings (PreciseBN), with its own draws per epoch.
    /// The model is not changed.
    static func evaluateEpoch(_ epoch: Int, model: Sequential, cell: Cell, data: PreparedData,
                              threads: ComputeThreads) throws -> EpochEvaluation {
        let e = cell.evaluation
        let batchSize = evalModeBatchSize(cell)
        let eval = Mode.eval.on(threads)
        let running = try Evaluation.accuracy(model: model, data: data.test, batchSize: batchSize, mode: eval)
        let calibrationData = e.recalibrateOnTest ? data.test : data.train
        let recalibrated = model.clone()
        var rng = RandomGenerator(seed: cell.seed).derived("recalibrate-epoch-\(epoch)")
        var precise: Double? = nil
        do {
            try Recalibration.recalibrate(model: recalibrated, data: calibrationData,
                                          samples: min(e.recalibrateSamples ?? calibrationData.count, calibrationData.count),
                                          batchSize: e.recalibrateBatchSize, estimator: e.estimator, rng: &rng,
                                          threads: threads)
            precise = try Evaluation.accuracy(model: recalibrated, data: data.test, batchSize: batchSize, mode: eval)
                .correct.percent
        } catch is LayerError {}  // refused (one value per channel, or MABN/CBN): the column stays empty
        return EpochEvaluation(epoch: epoch, runningStatisticsAccuracy: running.correct.percent, preciseBNAccuracy: precise)
    }

    /// The batch size of eval-mode passes whose batch size is not part of the measurement: at least
    /// ``measurementBatchSize``; with `track_running_stats off` (eval mode on batch statistics) `eval_batch_size`.
    static func evalModeBatchSize(_ cell: Cell) -> Int {
        let e = cell.evaluation
        return cell.model.trackRunningStats ? max(e.evalBatchSize, measurementBatchSize) : e.evalBatchSize
    }

    /// The cell's model as initialized, before training: every draw from `cell.seed`; `recipe` replaces
    /// the cell's (the same network with other dropout layers).
    static func buildModel(cell: Cell, data: PreparedData, recipe: ModelRecipe? = nil) throws -> Sequential {
        let train = data.train
        return try (recipe ?? cell.model).build(channels: train.channels, height: train.height, width: train.width,
                                    classes: max(train.classCount, data.test.classCount),
                                    rng: RandomGenerator(seed: cell.seed).derived("model"))
    }

    private static func measure(cell: Cell, data: PreparedData, trained: TrainedModelCache.Entry,
                                threads: ComputeThreads, into r: inout CellMeasurements) throws {
        let root = RandomGenerator(seed: cell.seed)
        let train = data.train, test = data.test
        let model = trained.model, outcome = trained.outcome
        r[.trainAccRunning] = outcome.runningAccuracy
        r[.finalTrainLoss] = outcome.finalLoss
        if let validation = outcome.lastValidationAccuracy { r[.valAccLastEpoch] = validation }
        r.epochEvaluations = outcome.epochEvaluations
        if let d = outcome.divergence { r.status = .diverged(d) }

        let e = cell.evaluation
        let batchStatsMode = Mode(normalization: .train, dropout: .eval, threads: threads)
        // Eval mode does not depend on the batch size (running statistics), so passes whose
        // batch size is not part of the measurement use batches of at least this size; with
        // track_running_stats off, eval mode normalizes with batch statistics and does depend
        // on it, so those passes use eval_batch_size as given.
        let eval = evalModeBatchSize(cell)
        // A pass that normalizes with batch statistics can meet a batch with one value per
        // channel (its last batch); PyTorch refuses it, so do the layers: that measurement
        // stays empty, with the reason in `notes`, and the others are kept.
        func batchStatistics(_ columns: String, _ body: () throws -> Void) throws {
            do { try body() } catch let error as LayerError { r.notes.append("\(columns) not measured: \(error)") }
        }
        // Train mode on a copy: batch statistics over batches of the TRAINING batch size.
        try batchStatistics("test_acc_train_mode") {
            r[.testAccTrainMode] = try Evaluation.accuracy(model: model.clone(), data: test,
                                                         batchSize: cell.training.batchSize, mode: batchStatsMode).correct.percent
        }
        if e.trainModeOnTrainSplit {
            try batchStatistics("train_acc_train_mode") {
                r[.trainAccTrainMode] = try Evaluation.accuracy(model: model.clone(), data: train,
                                                              batchSize: cell.training.batchSize, mode: batchStatsMode).correct.percent
            }
        }
        let evalPass = try Evaluation.accuracy(model: model, data: test, batchSize: e.metricBug ? e.evalBatchSize : eval,
                                               mode: .eval.on(threads))
        r[.testAccEvalMode] = evalPass.correct.percent
        if e.metricBug { r[.testAccAssigningBug] = evalPass.assigning.percent }
        try batchStatistics("test_acc_batch_stats") {
            r[.testAccBatchStats] = try Evaluation.accuracy(model: model.clone(), data: test, batchSize: e.evalBatchSize,
                                                          mode: batchStatsMode).correct.percent
        }
        // One eval-mode pass over the training split: train_acc_eval_mode and the statistics' errors.
        let probe = try RunningStatisticsProbe.measure(model: model, data: train, batchSize: eval, threads: threads)
        r[.trainAccEvalMode] = probe.accuracy.percent
        r.statisticsErrors = probe.errors

        let calibrationData = e.recalibrateOnTest ? test : train
        let samples = min(e.recalibrateSamples ?? calibrationData.count, calibrationData.count)
        r[.recalibrationSamples] = Double(samples)
        try batchStatistics("test_acc_recalibrated") {
            let recalibrated = model.clone()
            var recalibrationRNG = root.derived("recalibrate")
            try Recalibration.recalibrate(model: recalibrated, data: calibrationData, samples: samples,
                                          batchSize: e.recalibrateBatchSize, estimator: e.estimator,
                                          rng: &recalibrationRNG, threads: threads)
            r[.testAccRecalibrated] = try Evaluation.accuracy(model: recalibrated, data: test, batchSize: eval,
                                                            mode: .eval.on(threads)).correct.percent
            if !probe.errors.isEmpty {
                r.recalibratedStatisticsErrors = try RunningStatisticsProbe.measure(
                    model: recalibrated, data: train, batchSize: eval, threads: threads).errors
            }
        }
        if let prior = e.adaptPrior, model.runningStatisticsLayers.contains(where: \.trackRunningStats) {
            try batchStatistics("adapted_accuracy") {
                r[.adaptedAccuracy] = try Evaluation.accuracy(model: model, data: test, batchSize: e.evalBatchSize,
                                                            mode: adaptationMode(prior: prior, batchSize: e.evalBatchSize)
                                                                .on(threads))
                    .correct.percent
            }
        }
        if let averaged = trained.averaged, let plan = cell.training.weightAverage {
            try batchStatistics("test_acc_averaged") {
                try measureAveraged(averaged, plan: plan, cell: cell, data: data, threads: threads, into: &r)
            }
        }
        if e.mcSamples > 0 {
            r[.testAccMCDropout] = try Evaluation.monteCarloDropoutAccuracy(
                model: model.clone(), data: test, batchSize: eval, passes: e.mcSamples,
                rng: root.derived("mc-dropout"), threads: threads)
        }
        if e.mixedDropoutEval && cell.model.dropout > 0 && !cell.model.dropoutInEval {  // with the bug no eval rule applies
            try batchStatistics("test_acc_eval_mixed_dropout") {
                let mixed = try withOtherDropoutConvention(model, cell: cell, data: data)
                r[.testAccEvalMixedDropout] = try Evaluation.accuracy(model: mixed, data: test, batchSize: eval,
                                                                     mode: .eval.on(threads)).correct.percent
            }
        }
        if let forgotEval = e.forgotEval {
            try batchStatistics("test_acc_forgot_eval, test_acc_eval_after_forgot_eval, train_mode_disagreement,"
                                + " eval_mode_disagreement") {
                try measureForgottenEval(forgotEval, model: model, test: test, e: e, threads: threads, into: &r)
            }
        }
        if e.lossyReload {
            try batchStatistics("test_acc_after_lossy_reload, test_acc_reload_recalibrated") {
                let reloaded = try lossyReload(model, into: buildModel(cell: cell, data: data), notes: &r.notes)
                r[.testAccAfterLossyReload] = try Evaluation.accuracy(model: reloaded, data: test, batchSize: eval,
                                                                     mode: .eval.on(threads)).correct.percent
                var recalibrationRNG = root.derived("recalibrate")
                try Recalibration.recalibrate(model: reloaded, data: calibrationData, samples: samples,
                                              batchSize: e.recalibrateBatchSize, estimator: e.estimator,
                                              rng: &recalibrationRNG, threads: threads)
                r[.testAccReloadRecalibrated] = try Evaluation.accuracy(model: reloaded, data: test, batchSize: eval,
                                                                       mode: .eval.on(threads)).correct.percent
            }
        }
        if e.classBlockedEval {
            try batchStatistics("test_acc_train_mode_class_blocked") {
                r[.testAccTrainModeClassBlocked] = try Evaluation.classBlockedAccuracy(
                    model: model.clone(), data: test, batchSize: cell.training.batchSize, mode: batchStatsMode).percent
            }
        }
    }

    /// `test_acc_averaged`: the averaged model in eval mode with its buffer policy; `recalibrated` first
    /// re-estimates its buffers as `torch.optim.swa_utils.update_bn(train_loader, averaged)` does: every BatchNorm
    /// reset, then momentum=None (the cumulative average of the batch means and unbiased variances: the
    /// mean-of-batch-variances estimator of ``Recalibration``) over the whole training split in a fresh shuffled
    /// order, batches of the training batch size, in train mode (dropout on, as `model.train()`).
    static func measureAveraged(_ averaged: Sequential, plan: WeightAveragePlan, cell: Cell, data: PreparedData,
                                threads: ComputeThreads, into r: inout CellMeasurements) throws {
        if plan.buffers == .recalibrated {
            var rng = RandomGenerator(seed: cell.seed).derived("weight-average-update-bn")
            try Recalibration.recalibrate(model: averaged, data: data.train, samples: data.train.count,
                                          batchSize: cell.training.batchSize, estimator: .meanOfBatchVariances,
                                          rng: &rng, threads: threads)
        }
        r[.testAccAveraged] = try Evaluation.accuracy(model: averaged, data: data.test, batchSize: evalModeBatchSize(cell),
                                                    mode: .eval.on(threads)).correct.percent
    }

    /// Test-time adaptation with a prior of strength `N` at test batch size `n`, as the authors' code
    /// (bethgelab/robustness `examples/batchnorm/src/evaluate.py`) sets it: prior weight
    /// `N / (N + n)` with the nominal batch size `n` (the last, smaller batch keeps it), dropout off.
    static func adaptationMode(prior: Float, batchSize n: Int) -> Mode {
        let weight = Double(prior) / (Double(prior) + Double(n))
        return Mode(normalization: .adapted(priorWeight: Float(weight)), dropout: .eval)
    }

    /// `model.eval()` forgotten: the whole model in train mode over the first `forgotEval.batches`
    /// test batches with `forgotEval.shift` added to the inputs, which updates the running statistics;
    /// then the (mutated) model evaluated properly on the whole unshifted test split; and how much two
    /// passes in each mode disagree (over the whole test split).
    private static func measureForgottenEval(_ forgotEval: ForgottenEval, model: Sequential, test: ImageDataset,
                                             e: EvaluationPlan, threads: ComputeThreads,
                                             into r: inout CellMeasurements) throws {
        let forgot = model.clone()
        let forgotten = try Evaluation.accuracy(model: forgot, data: forgotEval.inputs(of: test, batchSize: e.evalBatchSize),
                                                batchSize: e.evalBatchSize, mode: .train.on(threads))
        let (train, eval) = (Mode.train.on(threads), Mode.eval.on(threads))
        let afterForgotten = try Evaluation.accuracy(model: forgot, data: test, batchSize: e.evalBatchSize, mode: eval)
        let probe = model.clone()
        let first = try Evaluation.predictions(model: probe, data: test, batchSize: e.evalBatchSize, mode: train)
        let second = try Evaluation.predictions(model: probe, data: test, batchSize: e.evalBatchSize, mode: train)
        let evalFirst = try Evaluation.predictions(model: model, data: test, batchSize: e.evalBatchSize, mode: eval)
        let evalSecond = try Evaluation.predictions(model: model, data: test, batchSize: e.evalBatchSize, mode: eval)
        // Assigned together: a refused pass leaves all four empty.
        r[.testAccForgotEval] = forgotten.correct.percent
        r[.testAccEvalAfterForgotEval] = afterForgotten.correct.percent
        r[.trainModeDisagreement] = disagreement(first, second)
        r[.evalModeDisagreement] = disagreement(evalFirst, evalSecond)
    }

    /// `trained`'s whole state (strict load) in a freshly built copy of the cell's network whose Dropout
    /// layers use the other convention (``DropoutConvention``): the same weights under the other eval rule,
    /// as when weights trained with one convention are deployed in code written for the other.
    static func withOtherDropoutConvention(_ trained: Sequential, cell: Cell, data: PreparedData) throws -> Sequential {
        var recipe = cell.model
        recipe.dropoutConvention = recipe.dropoutConvention == .inverted ? .classical : .inverted
        let other = try buildModel(cell: cell, data: data, recipe: recipe)
        try other.load(stateDict: trained.stateDict(), strict: true)
        return other
    }

    /// A checkpoint that kept only `parameters()` (as `torch.save({k: p for k, p in model.named_parameters()})`
    /// does): `trained`'s parameters through a safetensors round trip into `fresh` (a newly built model, its
    /// BatchNorm buffers at their initial 0 and 1). The strict load refuses it, and its error goes to
    /// `notes`, as `load_state_dict(strict=True)` would report it; the load that then happens is
    /// `strict=False`. Returns `fresh`.
    static func lossyReload(_ trained: Sequential, into fresh: Sequential, notes: inout [String]) throws -> Sequential {
        let parameters = trained.stateDictEntries.filter { $0.kind == .parameter }
        let file = SafeTensorsFile(tensors: Dictionary(uniqueKeysWithValues: parameters.map { ($0.key, $0.value) }))
        let reread = try SafeTensorsFile(parsing: file.serialized(), file: "parameters-only checkpoint")
        do {
            try fresh.load(stateDict: reread, strict: true)
        } catch let error as StateDictError {
            notes.append("lossy reload: load_state_dict(strict=True) refuses the checkpoint: "
                         + error.problems.joined(separator: "; "))
        }
        try fresh.load(stateDict: reread, strict: false)
        return fresh
    }

    /// Percentage of positions where two prediction lists differ.
    static func disagreement(_ a: [Int32], _ b: [Int32]) -> Double {
        guard !a.isEmpty else { return .nan }
        return 100 * Double(zip(a, b).filter { $0 != $1 }.count) / Double(a.count)
    }
}
