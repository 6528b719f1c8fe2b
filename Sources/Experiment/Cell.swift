import Datasets
import NN
import SpecFormat

/// One unit of work of a sweep, built once from the spec's resolved settings: a grid cell with
/// one seed, as its parts (data, model recipe, training plan, fine-tuning plan, evaluation plan) plus its
/// identity in the grid. The runner, the trained-model cache and the journal all take this.
public struct Cell: Hashable, Sendable {
    // MARK: Identity

    /// Position in the spec's grid (cells, then seeds, in file order).
    public var index: Int
    /// The canonical identity of the cell in its grid: swept settings and seed (``ExperimentConfig/cellKey()``).
    public var key: String
    /// Setting columns of the result row, `[name, value used]` (``ExperimentConfig/settingColumns``).
    public var settings: [[String]]
    /// The seed of every random draw of this cell.
    public var seed: UInt64

    // MARK: Parts

    /// The data settings (read by ``DataPreparation``) and their identity, ``DataPreparation/dataKey(_:)``.
    public var data: ExperimentConfig
    public var dataKey: String
    /// What its training reads, ``DataPreparation/trainingDataKey(_:)``: cells that differ only in how
    /// the test split is made share one training.
    public var trainingDataKey: String
    public var model: ModelRecipe
    public var optimizer: OptimizerSettings
    /// lr_used = lr * f(batch_size / base_batch_size).
    public var lrScaling: LRScaling
    public var baseBatchSize: Int
    public var training: TrainingPlan
    /// The second phase, the classifier fine-tuned on shifted data (`finetune_epochs` > 0); nil = none.
    public var fineTune: FineTunePlan?
    public var evaluation: EvaluationPlan

    /// A cell from its parts (tests and tools; a spec's cells come from ``init(_:index:)``).
    public init(index: Int = 0, key: String = "", settings: [[String]] = [], data: ExperimentConfig = ExperimentConfig(),
                model: ModelRecipe, optimizer: OptimizerSettings, lrScaling: LRScaling = .none, baseBatchSize: Int = 1,
                training: TrainingPlan, fineTune: FineTunePlan? = nil, evaluation: EvaluationPlan, seed: UInt64) {
        self.index = index; self.key = key; self.settings = settings; self.seed = seed
        self.data = data; self.dataKey = DataPreparation.dataKey(data)
        self.trainingDataKey = DataPreparation.trainingDataKey(data)
        self.model = model; self.optimizer = optimizer; self.lrScaling = lrScaling; self.baseBatchSize = baseBatchSize
        self.training = training; self.fineTune = fineTune; self.evaluation = evaluation
    }

    /// The cell of a resolved spec setting list at grid position `index`.
    public init(_ c: ExperimentConfig, index: Int) {
        let samples: Int?
        switch c.recalibrateSamples {
        case .all: samples = nil
        case .count(let n): samples = n
        }
        self.init(
            index: index, key: c.cellKey(), settings: c.settingColumns, data: c,
            model: ModelRecipe(architecture: c.model, activation: c.activation, norm: c.norm, groups: c.groups,
                               momentum: c.momentumUsed,
                               trackRunningStats: c.trackRunningStats, ghostBatchSize: c.ghostBatchSize, eps: c.eps,
                               dropout: c.dropProbability, dropoutConvention: c.dropoutConvention,
                               dropoutInEval: c.dropoutInEval, dropPathRate: c.dropPathRate,
                               renormLimits: c.renorm, mabn: c.mabn, cbn: c.cbn, sharedBN: c.sharedBN, devices: c.devices,
                               deviceBN: c.deviceBN),
            optimizer: c.optimizer, lrScaling: c.lrScaling, baseBatchSize: c.baseBatchSize,
            training: Self.trainingPlan(c), fineTune: Self.fineTunePlan(c),
            evaluation: EvaluationPlan(evalBatchSize: c.evalBatchSize, recalibrateSamples: samples,
                                       recalibrateBatchSize: c.recalibrateBatchSize, estimator: c.recalibrateEstimator,
                                       recalibrateOnTest: c.recalibrateData == .test, adaptPrior: c.adaptPrior,
                                       mcSamples: c.mcSamples,
                                       forgotEval: c.forgotEval ? ForgottenEval(batches: c.forgotEvalBatches,
                                                                                   shift: c.forgotEvalShift) : nil,
                                       classBlockedEval: c.classBlockedEval, mixedDropoutEval: c.mixedDropoutEval,
                                       trainModeOnTrainSplit: c.trainModeOnTrainSplit,
                                       lossyReload: c.lossyReload,
                                       metricBug: c.metricBug),
            seed: c.seed)
    }

    /// The training plan of `c`, its budget multiplied by `budget_factor`: epochs, steps or min_steps, the FrozenBN
    /// epochs and the schedule's warmup and decay steps all stretch together, so a cell with
    /// `budget_factor 2` trains the same schedule over twice the steps.
    public static func trainingPlan(_ c: ExperimentConfig) -> TrainingPlan {
        let f = c.budgetFactor
        var schedule = c.lrSchedule
        schedule.warmupSteps *= f
        if case let .step(every, gamma) = schedule.shape { schedule.shape = .step(every: every * f, gamma: gamma) }
        return TrainingPlan(epochs: c.epochs * f, batchSize: c.batchSize, order: c.order, dropLast: c.dropLast,
                            frozenEpochs: c.frozenBNEpochs * f, steps: c.steps * f, minSteps: c.minSteps * f,
                            schedule: schedule,
                            validation: c.validation, validationBatchSize: c.validationBatchSize,
                            weightAverage: weightAveragePlan(c), epochEval: c.epochEval)
    }

    /// The fine-tuning phase of `c` (`finetune_epochs`, `finetune_shift`, `freeze`), its epochs multiplied by
    /// `budget_factor` as the first phase's are; nil without one.
    static func fineTunePlan(_ c: ExperimentConfig) -> FineTunePlan? {
        guard c.finetuneEpochs > 0 else { return nil }
        return FineTunePlan(epochs: c.finetuneEpochs * c.budgetFactor, shift: c.finetuneShift,
                            frozen: FrozenNormalization(c.freeze))
    }

    /// The averaged model of `c` (`weight_average`, `ema_decay`, `weight_average_buffers`); nil = off.
    static func weightAveragePlan(_ c: ExperimentConfig) -> WeightAveragePlan? {
        switch c.weightAverage {
        case .off: return nil
        case .ema: return WeightAveragePlan(rule: .ema(decay: c.emaDecay), buffers: c.weightAverageBuffers)
        case .swa: return WeightAveragePlan(rule: .swa, buffers: c.weightAverageBuffers)
        }
    }

    /// The learning rate after `lr_scaling`.
    public var learningRate: Double {
        Double(optimizer.learningRate) * lrScaling.factor(batchSize: training.batchSize, baseBatchSize: baseBatchSize)
    }
}
