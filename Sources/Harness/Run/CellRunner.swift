import Foundation
import NN
import TensorCore

/// The train and test splits of one cell, ready to use (normalized, jittered).
public struct PreparedData: Sendable {
    public var train: ImageDataset
    public var test: ImageDataset
    /// Fraction of the test split that also appears in the training split.
    public var testOverlap: Double
    public init(train: ImageDataset, test: ImageDataset, testOverlap: Double = 0) {
        self.train = train; self.test = test; self.testOverlap = testOverlap
    }
}

/// What to measure after training.
public struct EvaluationPlan: Hashable, Sendable {
    /// Batch size of the batch-statistics evaluation (`track_running_stats=False`).
    public var evalBatchSize: Int
    /// Samples used to recalibrate (nil = the whole split) and their batch size.
    public var recalibrateSamples: Int?
    public var recalibrateBatchSize: Int
    public var estimator: VarianceEstimator
    /// Recalibrate on the test inputs (AdaBN, labels unused) instead of the training split.
    public var recalibrateOnTest: Bool
    /// Monte-Carlo dropout passes (0 = not measured).
    public var mcSamples: Int
    /// Also measure what a forgotten `model.eval()` does.
    public var forgotEval: Bool
    /// Also report the accuracy an assigning (`n_correct = ...`) evaluation loop prints.
    public var metricBug: Bool

    public init(evalBatchSize: Int = 128, recalibrateSamples: Int? = nil, recalibrateBatchSize: Int = 32,
                estimator: VarianceEstimator = .population, recalibrateOnTest: Bool = false,
                mcSamples: Int = 0, forgotEval: Bool = false, metricBug: Bool = false) {
        self.evalBatchSize = evalBatchSize; self.recalibrateSamples = recalibrateSamples
        self.recalibrateBatchSize = recalibrateBatchSize; self.estimator = estimator
        self.recalibrateOnTest = recalibrateOnTest; self.mcSamples = mcSamples
        self.forgotEval = forgotEval; self.metricBug = metricBug
    }
}

/// Everything that defines one training run (a grid cell and a seed).
public struct CellPlan: Hashable, Sendable {
    public var model: ModelRecipe
    public var optimizer: OptimizerSettings
    public var lrScaling: LRScaling
    public var baseBatchSize: Int
    public var training: TrainingPlan
    public var evaluation: EvaluationPlan
    public var seed: UInt64

    public init(model: ModelRecipe, optimizer: OptimizerSettings, lrScaling: LRScaling = .none, baseBatchSize: Int = 1,
                training: TrainingPlan, evaluation: EvaluationPlan, seed: UInt64) {
        self.model = model; self.optimizer = optimizer; self.lrScaling = lrScaling; self.baseBatchSize = baseBatchSize
        self.training = training; self.evaluation = evaluation; self.seed = seed
    }

    /// The learning rate after `lr_scaling`.
    public var learningRate: Double {
        Double(optimizer.learningRate) * lrScaling.factor(batchSize: training.batchSize, baseBatchSize: baseBatchSize)
    }
}

/// The outcome of a cell: `ok`, `diverged` (non-finite loss) or `invalid` (a
/// configuration the layers refuse, e.g. BatchNorm training on one value per channel).
public enum CellStatus: Hashable, Sendable {
    case ok
    case diverged(Divergence)
    case invalid(String)

    public var name: String {
        switch self { case .ok: return "ok"; case .diverged: return "diverged"; case .invalid: return "invalid" }
    }
    public var detail: String {
        switch self {
        case .ok: return ""
        case .diverged(let d): return "non-finite loss at \(d)"
        case .invalid(let reason): return reason
        }
    }
}

/// The numbers measured for one cell. Accuracies are percentages; nil = not measured.
public struct CellMeasurements: Sendable {
    public var status: CellStatus = .ok
    public var learningRate: Double = .nan
    public var trainAccRunning: Double?
    public var trainAccEvalMode: Double?
    public var testAccTrainMode: Double?
    public var testAccEvalMode: Double?
    public var testAccRecalibrated: Double?
    public var testAccBatchStats: Double?
    public var testAccMCDropout: Double?
    public var testAccForgotEval: Double?
    public var testAccEvalAfterForgotEval: Double?
    public var trainModeDisagreement: Double?
    public var evalModeDisagreement: Double?
    public var testAccAssigningBug: Double?
    public var finalTrainLoss: Double?
    public var testOverlap: Double = 0
    public var recalibrationSamples: Int = 0
    public var statisticsErrors: [StatisticsError] = []
    public var recalibratedStatisticsErrors: [StatisticsError] = []
    public var wallSeconds: Double = 0
    /// Measurements left empty because the layers refused them, each `COLUMN not measured: REASON`
    /// (a batch-statistics pass whose last batch has one value per channel, as PyTorch refuses).
    public var notes: [String] = []
    public init() {}

    /// `status_detail`: the reason for a non-ok status, or the notes of an ok cell.
    public var detail: String {
        let d = status.detail
        return ([d].filter { !$0.isEmpty } + notes).joined(separator: "; ")
    }
}

/// Trains one cell and measures it. Every random draw derives from `plan.seed`.
public enum CellRunner {
    /// The smallest batch of the passes whose batch size is not part of the measurement
    /// (eval mode, the statistics probe, the recalibrated model's evaluation). 64 keeps the
    /// GEMMs wide (64 x 256 pixels on the flagship) while a flagship cell stays under 64 MB
    /// resident: at 256, OpenBLAS's packing buffers and the wider workspaces took a batch-1
    /// cell from 42 MB to 82 MB (measured with /usr/bin/time -v, Benchmarks/RESULTS.md).
    public static let measurementBatchSize = 64

    /// - Parameters:
    ///   - cache: shares trained models between cells that differ only in evaluation settings;
    ///     `dataKey` identifies the training data for it.
    public static func run(plan: CellPlan, data: PreparedData, cache: TrainedModelCache? = nil, dataKey: String = "",
                           onEpoch: ((Int) -> Void)? = nil) -> CellMeasurements {
        let start = Date()
        var result = CellMeasurements()
        result.testOverlap = data.testOverlap
        result.learningRate = plan.learningRate
        do {
            let train = { try trainModel(plan: plan, data: data, onEpoch: onEpoch) }
            let trained = try cache.map { try $0.model(for: TrainedModelCache.Key(plan: plan, dataKey: dataKey), train: train) }
                ?? train()
            try measure(plan: plan, data: data, trained: trained, into: &result)
        } catch let error as LayerError {
            result.status = .invalid(error.description)
        } catch {
            result.status = .invalid("\(error)")
        }
        result.wallSeconds = Date().timeIntervalSince(start)
        return result
    }

    /// Builds the model and trains it; every draw derives from `plan.seed`.
    static func trainModel(plan: CellPlan, data: PreparedData, onEpoch: ((Int) -> Void)?) throws -> TrainedModelCache.Entry {
        let root = RandomGenerator(seed: plan.seed)
        let train = data.train
        let model = try plan.model.build(channels: train.channels, height: train.height, width: train.width,
                                         classes: max(train.classCount, data.test.classCount), rng: root.derived("model"))
        let optimizer = try plan.optimizer.make(parameters: model.parameters, learningRate: plan.learningRate)
        var shuffleRNG = root.derived("batches")
        let outcome = try Trainer.train(model: model, optimizer: optimizer, data: train, plan: plan.training,
                                        rng: &shuffleRNG, onEpoch: onEpoch)
        return TrainedModelCache.Entry(model: model, outcome: outcome)
    }

    private static func measure(plan: CellPlan, data: PreparedData, trained: TrainedModelCache.Entry,
                                into r: inout CellMeasurements) throws {
        let root = RandomGenerator(seed: plan.seed)
        let train = data.train, test = data.test
        let model = trained.model, outcome = trained.outcome
        r.trainAccRunning = outcome.runningAccuracy
        r.finalTrainLoss = outcome.finalLoss
        if let d = outcome.divergence { r.status = .diverged(d) }

        let e = plan.evaluation
        let batchStatsMode = Mode(normalization: .train, dropout: .eval)
        // Eval mode does not depend on the batch size (running statistics), so passes whose
        // batch size is not part of the measurement use batches of at least this size; with
        // track_running_stats off, eval mode normalizes with batch statistics and does depend
        // on it, so those passes use eval_batch_size as given.
        let eval = plan.model.trackRunningStats ? max(e.evalBatchSize, measurementBatchSize) : e.evalBatchSize
        // A pass that normalizes with batch statistics can meet a batch with one value per
        // channel (its last batch); PyTorch refuses it, so do the layers: that measurement
        // stays empty, with the reason in `notes`, and the others are kept.
        func batchStatistics(_ columns: String, _ body: () throws -> Void) throws {
            do { try body() } catch let error as LayerError { r.notes.append("\(columns) not measured: \(error)") }
        }
        // Train mode on a copy: batch statistics over batches of the TRAINING batch size.
        try batchStatistics("test_acc_train_mode") {
            r.testAccTrainMode = try Evaluation.accuracy(model: model.clone(), data: test,
                                                         batchSize: plan.training.batchSize, mode: batchStatsMode).correct.percent
        }
        let evalPass = try Evaluation.accuracy(model: model, data: test, batchSize: e.metricBug ? e.evalBatchSize : eval,
                                               mode: .eval)
        r.testAccEvalMode = evalPass.correct.percent
        if e.metricBug { r.testAccAssigningBug = evalPass.assigning.percent }
        try batchStatistics("test_acc_batch_stats") {
            r.testAccBatchStats = try Evaluation.accuracy(model: model.clone(), data: test, batchSize: e.evalBatchSize,
                                                          mode: batchStatsMode).correct.percent
        }
        // One eval-mode pass over the training split: train_acc_eval_mode and the statistics' errors.
        let probe = try RunningStatisticsProbe.measure(model: model, data: train, batchSize: eval)
        r.trainAccEvalMode = probe.accuracy.percent
        r.statisticsErrors = probe.errors

        let calibrationData = e.recalibrateOnTest ? test : train
        let samples = min(e.recalibrateSamples ?? calibrationData.count, calibrationData.count)
        r.recalibrationSamples = samples
        try batchStatistics("test_acc_recalibrated") {
            let recalibrated = model.clone()
            var recalibrationRNG = root.derived("recalibrate")
            try Recalibration.recalibrate(model: recalibrated, data: calibrationData, samples: samples,
                                          batchSize: e.recalibrateBatchSize, estimator: e.estimator, rng: &recalibrationRNG)
            r.testAccRecalibrated = try Evaluation.accuracy(model: recalibrated, data: test, batchSize: eval,
                                                            mode: .eval).correct.percent
            if !probe.errors.isEmpty {
                r.recalibratedStatisticsErrors = try RunningStatisticsProbe.measure(model: recalibrated, data: train,
                                                                                    batchSize: eval).errors
            }
        }
        if e.mcSamples > 0 {
            r.testAccMCDropout = try Evaluation.monteCarloDropoutAccuracy(
                model: model.clone(), data: test, batchSize: eval, passes: e.mcSamples,
                rng: root.derived("mc-dropout"))
        }
        if e.forgotEval {
            try batchStatistics("test_acc_forgot_eval, test_acc_eval_after_forgot_eval, train_mode_disagreement,"
                                + " eval_mode_disagreement") { try measureForgottenEval(model: model, test: test, e: e, into: &r) }
        }
    }

    /// `model.eval()` forgotten: the whole model in train mode over the test set, which
    /// updates the running statistics; then the (mutated) model evaluated properly; and
    /// how much two passes in each mode disagree.
    private static func measureForgottenEval(model: Sequential, test: ImageDataset, e: EvaluationPlan,
                                             into r: inout CellMeasurements) throws {
        let forgot = model.clone()
        let forgotten = try Evaluation.accuracy(model: forgot, data: test, batchSize: e.evalBatchSize, mode: .train)
        let afterForgotten = try Evaluation.accuracy(model: forgot, data: test, batchSize: e.evalBatchSize, mode: .eval)
        let probe = model.clone()
        let first = try Evaluation.predictions(model: probe, data: test, batchSize: e.evalBatchSize, mode: .train)
        let second = try Evaluation.predictions(model: probe, data: test, batchSize: e.evalBatchSize, mode: .train)
        let evalFirst = try Evaluation.predictions(model: model, data: test, batchSize: e.evalBatchSize, mode: .eval)
        let evalSecond = try Evaluation.predictions(model: model, data: test, batchSize: e.evalBatchSize, mode: .eval)
        // Assigned together: a refused pass leaves all four empty.
        r.testAccForgotEval = forgotten.correct.percent
        r.testAccEvalAfterForgotEval = afterForgotten.correct.percent
        r.trainModeDisagreement = disagreement(first, second)
        r.evalModeDisagreement = disagreement(evalFirst, evalSecond)
    }

    /// Percentage of positions where two prediction lists differ.
    static func disagreement(_ a: [Int32], _ b: [Int32]) -> Double {
        guard !a.isEmpty else { return .nan }
        return 100 * Double(zip(a, b).filter { $0 != $1 }.count) / Double(a.count)
    }
}
