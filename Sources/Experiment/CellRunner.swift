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
    ///   - cache: shares trained models, and the measurements they make alike (``MeasurementMemo``), between
    ///     cells that differ only in evaluation settings.
    ///   - observer: watches the training (not called when the trained model comes from `cache`).
    ///   - threads: what every pass of the cell runs on; no number depends on them.
    public static func run(_ cell: Cell, data: PreparedData, cache: TrainedModelCache? = nil,
                           onEpoch: ((_ epoch: Int, _ of: Int) -> Void)? = nil, observer: TrainingObserver? = nil,
                           threads: ComputeThreads = .serial) -> CellMeasurements {
        let start = Date()
        var result = CellMeasurements()
        result[.testOverlap] = data.testOverlap
        result[.lrUsed] = cell.learningRate
        result[.recalibrationSamples] = 0
        do {
            let train = {
                try trainModel(cell: cell, data: data, cache: cache, onEpoch: onEpoch, observer: observer, threads: threads)
            }
            let trained = try cache.map { try $0.model(for: TrainedModelCache.Key(cell), train: train) }
                ?? train()
            try measureTrained(cell: cell, data: data, trained: trained, memo: trained.measurements, threads: threads,
                               into: &result)
        } catch let error as LayerError {
            result.status = .invalid(error.description)
        } catch {
            result.status = .invalid("\(error)")
        }
        result.wallSeconds = Date().timeIntervalSince(start)
        return result
    }

    /// Builds the model and trains it, then fine-tunes it (``Cell/fineTune``); every draw derives from
    /// `cell.seed`. A fine-tuning cell takes its first phase from `cache` (``TrainedModelCache/Key/firstPhase``).
    static func trainModel(cell: Cell, data: PreparedData, cache: TrainedModelCache? = nil, onEpoch: ((_ epoch: Int, _ of: Int) -> Void)?,
                           observer: TrainingObserver? = nil, threads: ComputeThreads = .serial) throws
        -> TrainedModelCache.Entry {
        guard let fineTune = cell.fineTune else {
            return try trainFirstPhase(cell: cell, data: data, onEpoch: onEpoch, observer: observer, threads: threads)
        }
        // progress counts both phases: epoch e of the first phase's n is e of n + the fine-tuning's epochs
        let firstPhaseEpoch = onEpoch.map { report in { (e: Int, n: Int) in report(e, n + fineTune.epochs) } }
        let train = {
            try trainFirstPhase(cell: cell, data: data, onEpoch: firstPhaseEpoch, observer: observer, threads: threads)
        }
        let first = try cache.map { try $0.model(for: TrainedModelCache.Key(cell).firstPhase, train: train) } ?? train()
        return try fineTuneClassifier(first, plan: fineTune, cell: cell, data: data, onEpoch: onEpoch, threads: threads)
    }

    /// The fine-tuning phase (``FineTunePlan``) on `first`, the first phase's entry, whose model it trains
    /// in place (the caller owns it): the classifier alone, with a fresh optimizer of the cell's settings at
    /// `lr_used`, over the shifted training split in batches drawn from their own stream. The entry keeps
    /// a copy of the model before it (``TrainedModelCache/Entry/pretrained``); a first phase that diverged
    /// is not fine-tuned. The outcome's steps count both phases; a divergence's epoch counts from the first.
    static func fineTuneClassifier(_ first: TrainedModelCache.Entry, plan: FineTunePlan, cell: Cell, data: PreparedData,
                                   onEpoch: ((_ epoch: Int, _ of: Int) -> Void)?, threads: ComputeThreads = .serial) throws
        -> TrainedModelCache.Entry {
        let model = first.model
        let before = model.clone()
        guard first.outcome.divergence == nil else { return TrainedModelCache.Entry(model: model, outcome: first.outcome,
                                                                                    pretrained: before) }
        let optimizer = try cell.optimizer.make(parameters: Trainer.classifier(of: model).parameters,
                                                learningRate: cell.learningRate)
        let firstEpochs = cell.training.epochCount(batchesPerEpoch: cell.training.batchesPerEpoch(labels: data.train.labels))
        var rng = RandomGenerator(seed: cell.seed).derived("finetune-batches")
        var outcome = try Trainer.train(model: model, optimizer: optimizer, data: plan.shifted(data.train),
                                        plan: plan.trainingPlan(after: cell.training), rng: &rng,
                                        onEpoch: onEpoch.map { report in { report(firstEpochs + $0, firstEpochs + $1) } },
                                        threads: threads)
        outcome.steps += first.outcome.steps
        outcome.divergence?.epoch += firstEpochs
        return TrainedModelCache.Entry(model: model, outcome: outcome, pretrained: before)
    }

    /// The first phase: builds the model and trains it as ``Cell/training`` says.
    static func trainFirstPhase(cell: Cell, data: PreparedData, onEpoch: ((_ epoch: Int, _ of: Int) -> Void)?,
                                observer: TrainingObserver?, threads: ComputeThreads = .serial) throws
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
                              threads: ComputeThreads = .serial) throws -> EpochEvaluation {
        let e = cell.evaluation
        let batchSize = evalModeBatchSize(cell), eval = Mode.eval.on(threads)
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

    /// Every measurement of `trained` into `r`: ``measure(cell:data:trained:memo:into:)``; for a fine-tuning
    /// cell on the shifted splits, and ``measureFineTuning(cell:data:deployed:trained:memo:into:)``.
    static func measureTrained(cell: Cell, data: PreparedData, trained: TrainedModelCache.Entry, memo: MeasurementMemo?,
                               threads: ComputeThreads = .serial, into r: inout CellMeasurements) throws {
        guard let fineTune = cell.fineTune else {
            return try measure(cell: cell, data: data, trained: trained, memo: memo, threads: threads, into: &r)
        }
        // The deployment distribution: every column measures the shifted splits, beside the three
        // that compare with the model before fine-tuning and with the unshifted test split.
        let deployed = fineTune.shifted(data)
        try measure(cell: cell, data: deployed, trained: trained, memo: memo, threads: threads, into: &r)
        try measureFineTuning(cell: cell, data: data, deployed: deployed, trained: trained, memo: memo, threads: threads,
                              into: &r)
    }

    /// `memo` (the trained model's, ``TrainedModelCache/Entry/measurements``), or nil for a model whose
    /// eval-mode passes draw random numbers (a Dropout with `dropout_in_eval`): each of its passes depends
    /// on the passes before it, so none can stand for another.
    static func sharedMeasurements(_ memo: MeasurementMemo?, of model: Sequential) -> MeasurementMemo? {
        model.dropoutLayers.contains(where: \.activeInEval) ? nil : memo
    }

    /// `compute`'s result, the measurement `kind` of `cell` whose main pass has batches of `batchSize`:
    /// from `memo` (``MeasurementMemo``), or computed when there is none.
    static func memoized<T>(_ kind: MeasurementPass.Kind, batchSize: Int, of cell: Cell, in memo: MeasurementMemo?,
                            _ compute: () throws -> T) throws -> T {
        guard let memo else { return try compute() }
        return try memo.result(of: MeasurementPass(kind, batchSize: batchSize, of: cell), compute: compute)
    }

    /// The measurements after training, into `r`. Each pass goes through `memo`
    /// (``sharedMeasurements(_:of:)``), named by what it depends on (``MeasurementPass``): a pass that
    /// another cell of the same training (or this cell, for another column) already computed is not
    /// computed again. Without a memo every pass is computed. Every pass runs on `threads`.
    static func measure(cell: Cell, data: PreparedData, trained: TrainedModelCache.Entry, memo: MeasurementMemo?,
                        threads: ComputeThreads = .serial, into r: inout CellMeasurements) throws {
        let root = RandomGenerator(seed: cell.seed)
        let train = data.train, test = data.test
        let model = trained.model, outcome = trained.outcome
        r[.trainAccRunning] = outcome.runningAccuracy
        r[.finalTrainLoss] = outcome.finalLoss
        if let validation = outcome.lastValidationAccuracy { r[.valAccLastEpoch] = validation }
        r.epochEvaluations = outcome.epochEvaluations
        if let d = outcome.divergence { r.status = .diverged(d) }

        let memo = sharedMeasurements(memo, of: model)
        func measured<T>(_ kind: MeasurementPass.Kind, batchSize: Int, _ compute: () throws -> T) throws -> T {
            try memoized(kind, batchSize: batchSize, of: cell, in: memo, compute)
        }
        let e = cell.evaluation
        let batchStatsMode = Mode(normalization: .train, dropout: .eval, threads: threads)
        let evalMode = Mode.eval.on(threads)
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
        /// Train mode on a copy: batch statistics, dropout off.
        func batchStatisticsAccuracy(_ split: ImageDataset, onTrainingSplit: Bool, batchSize: Int) throws -> Double {
            try measured(.batchStatistics(onTrainingSplit: onTrainingSplit), batchSize: batchSize) {
                try Evaluation.accuracy(model: model.clone(), data: split, batchSize: batchSize, mode: batchStatsMode)
                    .correct.percent
            }
        }
        // Batches of the TRAINING batch size.
        try batchStatistics("test_acc_train_mode") {
            r[.testAccTrainMode] = try batchStatisticsAccuracy(test, onTrainingSplit: false, batchSize: cell.training.batchSize)
        }
        if e.trainModeOnTrainSplit {
            try batchStatistics("train_acc_train_mode") {
                r[.trainAccTrainMode] = try batchStatisticsAccuracy(train, onTrainingSplit: true,
                                                                    batchSize: cell.training.batchSize)
            }
        }
        let evalBatchSize = e.metricBug ? e.evalBatchSize : eval
        let evalPass = try measured(.evalMode, batchSize: evalBatchSize) {
            try Evaluation.accuracy(model: model, data: test, batchSize: evalBatchSize, mode: evalMode)
        }
        r[.testAccEvalMode] = evalPass.correct.percent
        if e.metricBug { r[.testAccAssigningBug] = evalPass.assigning.percent }
        try batchStatistics("test_acc_batch_stats") {
            r[.testAccBatchStats] = try batchStatisticsAccuracy(test, onTrainingSplit: false, batchSize: e.evalBatchSize)
        }
        // One eval-mode pass over the training split: train_acc_eval_mode and the statistics' errors.
        let probe = try measured(.statisticsProbe, batchSize: eval) {
            try RunningStatisticsProbe.measure(model: model, data: train, batchSize: eval, threads: threads)
        }
        r[.trainAccEvalMode] = probe.accuracy.percent
        r.statisticsErrors = probe.errors

        let calibrationData = e.recalibrateOnTest ? test : train
        let samples = min(e.recalibrateSamples ?? calibrationData.count, calibrationData.count)
        let recalibration = MeasurementPass.RecalibrationSettings(onTestSplit: e.recalibrateOnTest, samples: samples,
                                                                  batchSize: e.recalibrateBatchSize, estimator: e.estimator)
        r[.recalibrationSamples] = Double(samples)
        try batchStatistics("test_acc_recalibrated") {
            // the probe's error stays with it: test_acc_recalibrated is set even when the probe is refused
            let measuredRecalibrated = try measured(.recalibrated(recalibration, probe: !probe.errors.isEmpty),
                                                    batchSize: eval) {
                () throws -> (accuracy: Double, errors: Result<[StatisticsError], any Error>?) in
                let recalibrated = model.clone()
                var recalibrationRNG = root.derived("recalibrate")
                try Recalibration.recalibrate(model: recalibrated, data: calibrationData, samples: samples,
                                              batchSize: e.recalibrateBatchSize, estimator: e.estimator,
                                              rng: &recalibrationRNG, threads: threads)
                let accuracy = try Evaluation.accuracy(model: recalibrated, data: test, batchSize: eval, mode: evalMode)
                    .correct.percent
                let errors = probe.errors.isEmpty ? nil : Result {
                    try RunningStatisticsProbe.measure(model: recalibrated, data: train, batchSize: eval, threads: threads)
                        .errors
                }
                return (accuracy, errors)
            }
            r[.testAccRecalibrated] = measuredRecalibrated.accuracy
            if let errors = measuredRecalibrated.errors { r.recalibratedStatisticsErrors = try errors.get() }
        }
        if let prior = e.adaptPrior, model.runningStatisticsLayers.contains(where: \.trackRunningStats) {
            try batchStatistics("adapted_accuracy") {
                r[.adaptedAccuracy] = try measured(.adapted(prior: prior), batchSize: e.evalBatchSize) {
                    try Evaluation.accuracy(model: model, data: test, batchSize: e.evalBatchSize,
                                            mode: adaptationMode(prior: prior, batchSize: e.evalBatchSize).on(threads))
                        .correct.percent
                }
            }
        }
        if let averaged = trained.averaged, let plan = cell.training.weightAverage {
            try batchStatistics("test_acc_averaged") {
                r[.testAccAveraged] = try measured(.averaged, batchSize: eval) {
                    try averagedAccuracy(averaged, plan: plan, cell: cell, data: data, threads: threads)
                }
            }
        }
        if e.mcSamples > 0 {
            r[.testAccMCDropout] = try measured(.monteCarloDropout(passes: e.mcSamples), batchSize: eval) {
                try Evaluation.monteCarloDropoutAccuracy(model: model.clone(), data: test, batchSize: eval,
                                                         passes: e.mcSamples, rng: root.derived("mc-dropout"),
                                                         threads: threads)
            }
        }
        if e.mixedDropoutEval && cell.model.dropout > 0 && !cell.model.dropoutInEval {  // with the bug no eval rule applies
            try batchStatistics("test_acc_eval_mixed_dropout") {
                r[.testAccEvalMixedDropout] = try measured(.otherDropoutConvention, batchSize: eval) {
                    let mixed = try withOtherDropoutConvention(model, cell: cell, data: data)
                    return try Evaluation.accuracy(model: mixed, data: test, batchSize: eval, mode: evalMode).correct.percent
                }
            }
        }
        if let forgotEval = e.forgotEval {
            try batchStatistics("test_acc_forgot_eval, test_acc_eval_after_forgot_eval, train_mode_disagreement,"
                                + " eval_mode_disagreement") {
                let forgotten = try measured(.forgottenEval(forgotEval), batchSize: e.evalBatchSize) {
                    try forgottenEval(forgotEval, model: model, test: test, batchSize: e.evalBatchSize, threads: threads)
                }
                let disagreements = try measured(.disagreement, batchSize: e.evalBatchSize) {
                    try disagreement(model: model, test: test, batchSize: e.evalBatchSize, threads: threads)
                }
                // Assigned together: a refused pass leaves all four empty.
                r[.testAccForgotEval] = forgotten.forgotten
                r[.testAccEvalAfterForgotEval] = forgotten.afterwards
                r[.trainModeDisagreement] = disagreements.trainMode
                r[.evalModeDisagreement] = disagreements.evalMode
            }
        }
        if e.lossyReload {
            try batchStatistics("test_acc_after_lossy_reload, test_acc_reload_recalibrated") {
                // built again by every cell (no forward pass): the strict load's note is the cell's own
                let reloaded = try lossyReload(model, into: buildModel(cell: cell, data: data), notes: &r.notes)
                r[.testAccAfterLossyReload] = try measured(.lossyReload, batchSize: eval) {
                    try Evaluation.accuracy(model: reloaded, data: test, batchSize: eval, mode: evalMode).correct.percent
                }
                r[.testAccReloadRecalibrated] = try measured(.lossyReloadRecalibrated(recalibration), batchSize: eval) {
                    var recalibrationRNG = root.derived("recalibrate")
                    try Recalibration.recalibrate(model: reloaded, data: calibrationData, samples: samples,
                                                  batchSize: e.recalibrateBatchSize, estimator: e.estimator,
                                                  rng: &recalibrationRNG, threads: threads)
                    return try Evaluation.accuracy(model: reloaded, data: test, batchSize: eval, mode: evalMode).correct.percent
                }
            }
        }
        if e.classBlockedEval {
            try batchStatistics("test_acc_train_mode_class_blocked") {
                r[.testAccTrainModeClassBlocked] = try measured(.batchStatisticsClassBlocked,
                                                                batchSize: cell.training.batchSize) {
                    try Evaluation.classBlockedAccuracy(model: model.clone(), data: test, batchSize: cell.training.batchSize,
                                                        mode: batchStatsMode).percent
                }
            }
        }
    }

    /// The fine-tuning columns, in eval mode: the model before fine-tuning on the shifted test split
    /// (`deployed.test`, where `test_acc_eval_mode` measures the fine-tuned one), and both models on the
    /// unshifted test split (`data.test`).
    static func measureFineTuning(cell: Cell, data: PreparedData, deployed: PreparedData,
                                  trained: TrainedModelCache.Entry, memo: MeasurementMemo?,
                                  threads: ComputeThreads = .serial, into r: inout CellMeasurements) throws {
        guard let before = trained.pretrained else { preconditionFailure("a fine-tuned entry keeps its first phase") }
        let eval = evalModeBatchSize(cell), memo = sharedMeasurements(memo, of: trained.model)
        func accuracy(pretrained: Bool, shifted: Bool) throws -> Double {
            try memoized(.evalModeAroundFineTuning(pretrained: pretrained, shifted: shifted), batchSize: eval, of: cell,
                         in: memo) {
                try Evaluation.accuracy(model: pretrained ? before : trained.model, data: shifted ? deployed.test : data.test,
                                        batchSize: eval, mode: .eval.on(threads)).correct.percent
            }
        }
        r[.testAccBeforeFinetune] = try accuracy(pretrained: true, shifted: true)
        r[.testAccUnshifted] = try accuracy(pretrained: false, shifted: false)
        r[.testAccUnshiftedBeforeFinetune] = try accuracy(pretrained: true, shifted: false)
    }

    /// `test_acc_averaged`: the averaged model in eval mode with its buffer policy; `recalibrated` first
    /// re-estimates its buffers as `torch.optim.swa_utils.update_bn(train_loader, averaged)` does: every BatchNorm
    /// reset, then momentum=None (the cumulative average of the batch means and unbiased variances: the
    /// mean-of-batch-variances estimator of ``Recalibration``) over the whole training split in a fresh shuffled
    /// order, batches of the training batch size, in train mode (dropout on, as `model.train()`).
    static func averagedAccuracy(_ averaged: Sequential, plan: WeightAveragePlan, cell: Cell,
                                 data: PreparedData, threads: ComputeThreads = .serial) throws -> Double {
        if plan.buffers == .recalibrated {
            var rng = RandomGenerator(seed: cell.seed).derived("weight-average-update-bn")
            try Recalibration.recalibrate(model: averaged, data: data.train, samples: data.train.count,
                                          batchSize: cell.training.batchSize, estimator: .meanOfBatchVariances,
                                          rng: &rng, threads: threads)
        }
        return try Evaluation.accuracy(model: averaged, data: data.test, batchSize: evalModeBatchSize(cell),
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
    /// test batches of `batchSize` with `forgotEval.shift` added to the inputs, which updates the running
    /// statistics (`forgotten`, on a copy); then that copy evaluated properly on the whole unshifted test
    /// split (`afterwards`).
    static func forgottenEval(_ forgotEval: ForgottenEval, model: Sequential, test: ImageDataset, batchSize: Int,
                              threads: ComputeThreads = .serial) throws -> (forgotten: Double, afterwards: Double) {
        let forgot = model.clone()
        let forgotten = try Evaluation.accuracy(model: forgot, data: forgotEval.inputs(of: test, batchSize: batchSize),
                                                batchSize: batchSize, mode: .train.on(threads))
        let afterwards = try Evaluation.accuracy(model: forgot, data: test, batchSize: batchSize, mode: .eval.on(threads))
        return (forgotten.correct.percent, afterwards.correct.percent)
    }

    /// How much two passes over the whole test split disagree (%), in train mode (one copy, twice)
    /// and in eval mode (the model itself, twice).
    static func disagreement(model: Sequential, test: ImageDataset, batchSize: Int, threads: ComputeThreads = .serial)
        throws -> (trainMode: Double, evalMode: Double) {
        let probe = model.clone()
        let (train, eval) = (Mode.train.on(threads), Mode.eval.on(threads))
        let first = try Evaluation.predictions(model: probe, data: test, batchSize: batchSize, mode: train)
        let second = try Evaluation.predictions(model: probe, data: test, batchSize: batchSize, mode: train)
        let evalFirst = try Evaluation.predictions(model: model, data: test, batchSize: batchSize, mode: eval)
        let evalSecond = try Evaluation.predictions(model: model, data: test, batchSize: batchSize, mode: eval)
        return (disagreement(first, second), disagreement(evalFirst, evalSecond))
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
