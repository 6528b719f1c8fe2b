import NN

/// One cell of an experiment grid, fully resolved: every setting of the spec
/// with its type, plus the seed. `init()` gives every key's default (the
/// table in Experiments/README.md); ``Spec/cells(quick:)`` builds the cells of a spec.
public struct ExperimentConfig: Hashable, Sendable {
    // MARK: Data

    /// `dataset`: where the images come from.
    public var dataset: DatasetSource = .shapes(size: 16, noise: 0.25)
    /// `jitter`: per-image x' = gain * x + offset.
    public var jitter: JitterSetting = .none
    /// `jitter_apply`: which splits get the jitter.
    public var jitterApply: JitterApply = .both
    /// `train_split`: training samples.
    public var trainSplit: Int = 3000
    /// `test_split`: test samples.
    public var testSplit: Int = 1000
    /// `split_overlap`: fraction in [0, 1] of the test split drawn from the training split.
    public var splitOverlap: Float = 0
    /// `normalize`: standardization of the inputs, per channel (tabular rows: per feature).
    public var normalize: InputNormalization = .train
    /// `test_normalize`: how the test split is standardized.
    public var testNormalize: TestNormalization = .same
    /// `test_storage`: the lossy format the test images were stored in.
    public var testStorage: TestStorage = .lossless
    /// `order`: batch composition during training.
    public var order: BatchOrder = .shuffled
    /// `drop_last`: whether the last, smaller training batch of an epoch is dropped.
    public var dropLast: Bool = true

    // MARK: Model

    /// `model`: the network.
    public var model: ModelArchitecture = .cnn(channels: [16, 32], kernel: 3)
    /// `activation`: the nonlinearity of every block.
    public var activation: Activation = .relu
    /// `norm`: the normalization layer of every block.
    public var norm: NormKind = .batch
    /// `groups`: GroupNorm groups; divides every channel count when `norm` is group.
    public var groups: Int = 8
    /// `momentum`: BatchNorm running-statistics momentum, as written (in ``momentumConvention``'s meaning).
    public var momentum: BNMomentum = .exponential(0.1)
    /// `momentum_convention`: the meaning of ``momentum``: PyTorch's (weight of the new batch) or Keras's
    /// (weight of the old statistics); ``momentumUsed`` is the value in PyTorch's convention.
    public var momentumConvention: MomentumConvention = .pytorch
    /// `track_running_stats`: off = BatchNorm uses batch statistics in eval mode too.
    public var trackRunningStats: Bool = true
    /// `ghost_batch_size`: Ghost BatchNorm's virtual batch size (>= 2), nil = off.
    public var ghostBatchSize: Int? = nil
    /// `shared_bn`: whether two blocks of the same width share one BatchNorm module.
    public var sharedBN: SharedBatchNormSetting = .off
    /// `devices`: simulated data-parallel devices, each normalizing its shard of batch_size / devices.
    public var devices: Int = 1
    /// `device_bn`: the running statistics of a multi-device model (rank 0's, reduced, or SyncBatchNorm).
    public var deviceBN: DeviceBatchNormPolicy = .rank0
    /// `frozen_bn_epochs`: the last K epochs train with BatchNorm in eval mode.
    public var frozenBNEpochs: Int = 0
    /// `renorm`: Batch Renormalization's clipping schedule.
    public var renorm: RenormSchedule = RenormSchedule()
    /// `mabn`: Moving Average BatchNorm's buffer size and warmup.
    public var mabn: MABNSettings = MABNSettings()
    /// `cbn`: Cross-Iteration BatchNorm's buffer, burn-in, rho and two-stage switch.
    public var cbn: CBNSettings = CBNSettings()
    /// `dropout`: probability of dropping a unit; kept units are scaled by 1/(1-p) (`dropout_convention`).
    public var dropProbability: Float = 0
    /// `dropout_convention`: where Dropout puts its factor 1 - p (inverted: PyTorch's).
    public var dropoutConvention: DropoutConvention = .inverted
    /// `dropout_in_eval`: the functional-dropout bug, Dropout active in eval mode too.
    public var dropoutInEval: Bool = false
    /// `drop_path`: stochastic depth's drop_path_rate (model resnet), timm's linear decay over blocks.
    public var dropPathRate: Float = 0
    /// `eps`: normalization epsilon, x_hat = (x - mean) / sqrt(var + eps).
    public var eps: Float = 1e-5

    // MARK: Training

    /// `epochs`: passes over the training split (when ``steps`` is 0).
    public var epochs: Int = 3
    /// `steps`: optimizer steps of the training; 0 = ``epochs`` decides.
    public var steps: Int = 0
    /// `min_steps`: with an epoch budget, at least this many optimizer steps: whole epochs,
    /// `max(epochs, ceil(min_steps / batches_per_epoch))`; 0 = ``epochs`` alone decides.
    public var minSteps: Int = 0
    /// `budget_factor`: multiplies the budget (epochs or steps, and the schedule's warmup and decay
    /// steps with it): 2 is the convergence check's doubled budget.
    public var budgetFactor: Int = 1
    /// `lr_schedule`: the learning rate of each step, as a factor of lr_used.
    public var lrSchedule: LRSchedule = LRSchedule()
    /// `validation`: the per-epoch validation pass over the test split.
    public var validation: ValidationMode = .off
    /// `validation_batch_size`: its batch size.
    public var validationBatchSize: Int = 128
    /// `epoch_eval`: after every epoch, the test split in eval mode with the running statistics and
    /// with PreciseBN-recalibrated ones (`<spec>-epochs.csv`).
    public var epochEval: Bool = false
    /// `weight_average`: the averaged model kept beside the trained one.
    public var weightAverage: WeightAverage = .off
    /// `ema_decay`: the EMA's decay, the decimal the spec writes (as Python holds the literal).
    public var emaDecay: Double = 0.999
    /// `weight_average_buffers`: what the averaged model's BatchNorm buffers are.
    public var weightAverageBuffers: WeightAverageBuffers = .averaged
    /// `finetune_epochs`: the epochs of a second phase that fine-tunes only the classifier on shifted data
    /// (the other layers frozen as ``freeze`` says); 0 = no second phase.
    public var finetuneEpochs: Int = 0
    /// `finetune_shift`: added to every input value of the fine-tuning data and of the splits measured after it.
    public var finetuneShift: Float = 0
    /// `freeze`: how the feature layers are frozen while the classifier is fine-tuned.
    public var freeze: FreezeMethod = .requiresGrad
    /// `batch_size`: training batch size.
    public var batchSize: Int = 32
    /// `optimizer` (and `lr`): the optimizer; its learning rate is before `lr_scaling`.
    public var optimizer: OptimizerSettings = .sgd(SGDSettings(learningRate: 0.01, momentum: 0.9))
    /// `lr_scaling`: lr_used = lr * f(batch_size / base_batch_size).
    public var lrScaling: LRScaling = .none
    /// `base_batch_size`: the batch size at which lr_used = lr.
    public var baseBatchSize: Int = 1
    /// `threads`: the threads this cell computes on (``ComputeThreads``); no number depends on them.
    public var threads: Int = 1
    /// One entry of `seeds`: the seed of every random draw of this cell.
    public var seed: UInt64 = 0

    // MARK: Evaluation

    /// `eval_batch_size`: batch size of the batch-statistics evaluation.
    public var evalBatchSize: Int = 128
    /// `recalibrate_samples`: samples used to re-estimate BatchNorm statistics.
    public var recalibrateSamples: RecalibrationSamples = .all
    /// `recalibrate_batch_size`: batch size of the recalibration passes.
    public var recalibrateBatchSize: Int = 32
    /// `recalibrate_estimator`: how batch statistics become running ones.
    public var recalibrateEstimator: VarianceEstimator = .population
    /// `recalibrate_data`: which inputs recalibrate (test = AdaBN).
    public var recalibrateData: RecalibrationData = .train
    /// `adapt_prior`: the prior strength N of test-time BatchNorm adaptation (Schneider et al. 2020),
    /// nil = off.
    public var adaptPrior: Float? = nil
    /// `mc_samples`: Monte-Carlo dropout passes at evaluation, 0 = off.
    public var mcSamples: Int = 0
    /// `forgot_eval`: also evaluate as if model.eval() had been forgotten.
    public var forgotEval: Bool = false
    /// `forgot_eval_batches`: test batches the forgotten pass runs over; nil = all.
    public var forgotEvalBatches: Int? = nil
    /// `forgot_eval_shift`: added to every input value of the forgotten pass.
    public var forgotEvalShift: Float = 0
    /// `class_blocked_eval`: also measure train mode over single-class test batches.
    public var classBlockedEval: Bool = false
    /// `mixed_dropout_eval`: also measure eval mode with the other dropout convention's rule.
    public var mixedDropoutEval: Bool = false
    /// `train_mode_train_split`: also measure train mode over the training split.
    public var trainModeOnTrainSplit: Bool = false
    /// `lossy_reload`: also measure a reload of the parameters without the BatchNorm buffers.
    public var lossyReload: Bool = false
    /// `metric_bug`: also report what an assigning (`n_correct = ...`) evaluation loop prints.
    public var metricBug: Bool = false

    // MARK: Identity

    /// `variant`: the name of the spec's `variant` line whose overrides this
    /// cell applies (after the fixed and swept values), nil when the spec sweeps none.
    public var variant: String? = nil
    /// The keys the spec sweeps, in file order: with ``sweptValues`` and
    /// ``seed``, the identity of this cell in its grid (``cellKey()``).
    public var sweptKeys: [String] = []
    /// The canonical text of this cell's value on each axis of ``sweptKeys``,
    /// as the sweep line writes it. It is the value used, except for a key that
    /// the cell's ``variant`` overrides: the cell then trains with the variant's value.
    public var sweptValues: [String] = []
    /// The keys with ``SpecKey/columnOnlyWhereUsed()`` that the spec writes (a fixed line, a sweep or a
    /// variant's override): only these of them have a column in the result tables (``settingColumns``).
    public var columnsWhereUsed: Set<String> = []

    /// Every key at its default; seed 0; nothing swept.
    public init() {}

    /// The momentum the BatchNorm layers use, in PyTorch's convention: ``momentum`` converted from
    /// ``momentumConvention`` (Keras: `1 - momentum`).
    public var momentumUsed: BNMomentum { momentumConvention.pytorchMomentum(momentum) }

    /// The learning rate actually used:
    /// lr_used = lr * f(batch_size / base_batch_size), f from ``lrScaling``.
    public var effectiveLearningRate: Float {
        Float(Double(optimizer.learningRate)
              * lrScaling.factor(batchSize: batchSize, baseBatchSize: baseBatchSize))
    }
}
