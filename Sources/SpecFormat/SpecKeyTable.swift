import NN

/// Every key of the spec format, in canonical order: the one table that the
/// parser, the "did you mean" suggestions, the canonical cell strings and the
/// documentation (Experiments/README.md) all read.
///
/// The order matters: cells apply settings in this order (so `lr` overrides
/// the `optimizer`'s lr wherever the lines are), and ``ExperimentConfig/canonicalDescription``
/// lists them in it.
package enum SpecKeyTable {
    static let keys: [SpecKey] = [
        // MARK: Data
        .custom("dataset", .data, oneWord: false,
                values: "`shapes [size=16] [noise=0.25]` | `csv path=P [label_column=first|last|N] [shape=CxHxW] "
                    + "[scale=X] [header=auto|yes|no]` | `idx images=P labels=P` | `cifar10 path=P[,P...]`",
                meaning: "shapes: the embedded synthetic 3-class images, size in pixels >= 12, noise = std of "
                    + "Gaussian pixel noise >= 0. csv: one image per comma-separated row; label_column (default "
                    + "first) is first, last or a 0-based index, and the labels must be the classes 0..K-1, each with "
                    + "a sample (see CSV data); without shape a row is a flat vector of features; x' = scale * x "
                    + "(scale > 0); header auto = a first row that is not numbers. idx: MNIST-format files. cifar10: "
                    + "binary batch files. Paths are relative to the spec file's directory.",
                parse: SettingParsers.dataset, render: SettingParsers.renderDataset),
        .custom("jitter", .data, oneWord: false, values: "`none` | `[gain=LO:HI] [offset=LO:HI]`",
                meaning: "per image x' = gain * x + offset; gain log-uniform in [LO, HI] (0 < LO <= HI, "
                    + "default 1:1), offset uniform in [LO, HI] (default 0:0)",
                parse: SettingParsers.jitter, render: SettingParsers.renderJitter),
        .choice("jitter_apply", .data, sweepable: true,
                meaning: "the splits the jitter applies to (none: neither, for a with/without sweep); an error when "
                    + "jitter is none, and the result tables then leave its column empty", \.jitterApply),
        .integer("train_split", .data, atLeast: 1, meaning: "training samples", \.trainSplit),
        .integer("test_split", .data, atLeast: 1, meaning: "test samples", \.testSplit),
        .custom("split_overlap", .data, sweepable: true, values: "number in [0, 1]",
                meaning: "fraction of the test split drawn from the training split (a leakage experiment); "
                    + "> 0 warns",
                parse: SettingParsers.splitOverlap, render: { SpecNumber.format($0.splitOverlap) }),
        .choice("normalize", .data,
                meaning: "train: x' = (x - mean_c) / std_c per channel c of images, and per feature (column) of "
                    + "the tabular rows of a csv without shape, with the training split's statistics; none: raw",
                \.normalize),
        .custom("test_normalize", .data, sweepable: true, values: "same | none | own | MEAN,STD",
                meaning: "how the test split is standardized: as train, raw, with its own per-channel (tabular: "
                    + "per-feature) statistics, or with the given ones (STD > 0, units of the data after scale)",
                parse: SettingParsers.testNormalize, render: SettingParsers.renderTestNormalize),
        .choice("order", .data, sweepable: true,
                meaning: "training batches: reshuffled every epoch; the split sorted by label, never shuffled; "
                    + "every batch from one class (class order shuffled per epoch)", \.order),
        .onOff("drop_last", .data,
               meaning: "drop the last, smaller training batch of each epoch; off with a BatchNorm model warns",
               \.dropLast),

        // MARK: Model
        .custom("model", .model, oneWord: false,
                values: "`cnn channels=C1,C2,... [kernel=3]` | `mlp widths=W1,W2,...`",
                meaning: "cnn, per entry: conv KxK (padding K/2, K odd) -> norm -> ReLU -> maxpool 2; then "
                    + "flatten -> dropout -> linear. mlp, per entry: linear -> norm -> ReLU -> dropout; then "
                    + "linear. Counts >= 1",
                parse: SettingParsers.model, render: SettingParsers.renderModel),
        .choice("norm", .model, sweepable: true, meaning: "the normalization layer of every block", \.norm),
        .integer("groups", .model, sweepable: true, atLeast: 1,
                 meaning: "GroupNorm groups; must divide every channel count (mlp: width) when norm is group",
                 \.groups),
        .custom("momentum", .model, sweepable: true, values: "number in (0, 1] | cumulative",
                meaning: "BatchNorm's running-statistics momentum in momentum_convention's meaning (PyTorch's by"
                    + " default: running = (1 - momentum) * running + momentum * batch); cumulative = PyTorch's"
                    + " momentum=None; in PyTorch's convention > 0.5 warns (Keras's 0.9 is PyTorch's 0.1), in"
                    + " Keras's < 0.5 warns (a PyTorch value pasted)",
                parse: SettingParsers.momentum, render: SettingParsers.renderMomentum),
        .choice("momentum_convention", .model, sweepable: true,
                meaning: "keras: momentum is Keras's (weight of the OLD statistics: running = momentum * running +"
                    + " (1 - momentum) * batch; Keras's default 0.99), converted to PyTorch's 1 - momentum when the"
                    + " cell is built (the tables show momentum as written); needs a number, not cumulative, below"
                    + " 1. eps does not follow the convention (Keras's default 1e-3 is not PyTorch's 1e-5): set it"
                    + " with eps", \.momentumConvention),
        .onOff("track_running_stats", .model, sweepable: true,
               meaning: "off: BatchNorm keeps no running statistics and uses batch statistics in eval mode too",
               \.trackRunningStats),
        .custom("ghost_batch_size", .model, sweepable: true, values: "off | integer >= 2",
                meaning: "Ghost BatchNorm: statistics over virtual sub-batches of this many samples",
                parse: SettingParsers.ghostBatchSize, render: SettingParsers.renderGhostBatchSize),
        .choice("shared_bn", .model, sweepable: true,
                meaning: "two blocks of the same width share one BatchNorm module (pytorch/pytorch#1738): the first"
                    + " block whose width equals an earlier one's and that earlier block (cnn channels=16,16,32:"
                    + " blocks 1 and 2). shared: one module, parameters and running statistics, called at both (each"
                    + " call normalizes with its own batch and updates the running statistics: two updates per"
                    + " step); shared-affine: one weight and bias, running statistics per block (detectron2's"
                    + " CycleBatchNormList); off: a module per block. Needs norm batch and two blocks of one width",
                \.sharedBN),
        .integer("devices", .model, sweepable: true, atLeast: 1,
                 meaning: "K data-parallel devices, simulated in one process: in train mode the batch is cut into K"
                    + " consecutive shards of batch_size / K (torch.chunk), each normalized by its own device's"
                    + " BatchNorm (device_bn sync: all together); the gradient is the full-batch mean loss's; must"
                    + " divide batch_size; > 1 needs norm batch and drop_last on, and excludes ghost_batch_size and"
                    + " shared_bn", \.devices),
        .choice("device_bn", .model, sweepable: true,
                meaning: "the running statistics with devices > 1: rank0 = rank 0's shard only (DDP's default"
                    + " broadcast_buffers=True: rank 0's buffers broadcast before every forward); reduce = each rank"
                    + " its own shard's, averaged over the ranks at the end of every epoch (timm --dist-bn reduce"
                    + " with --no-ddp-bb), rank 0's evaluated in between; sync = SyncBatchNorm: statistics of the"
                    + " whole batch", \.deviceBN),
        .integer("frozen_bn_epochs", .model, sweepable: true, atLeast: 0,
                 meaning: "the last K epochs train with BatchNorm in eval mode (FrozenBN); <= epochs",
                 \.frozenBNEpochs),
        .custom("renorm", .model, oneWord: false,
                values: "`[rmax=R] [dmax=D] [warmup_steps=N] [ramp_steps=N]`",
                meaning: "Batch Renormalization limits: r_max = 1, d_max = 0 for warmup_steps optimizer steps, "
                    + "then linear to rmax (>= 1) and dmax (>= 0) over ramp_steps steps",
                parse: SettingParsers.renorm, render: SettingParsers.renderRenorm),
        .number("dropout", .model, sweepable: true, in: .fractionBelowOne,
                meaning: "p, the probability of dropping a unit; kept units are scaled by 1/(1-p)",
                \.dropProbability),
        .number("eps", .model, in: .above(0), meaning: "normalization epsilon: x_hat = (x - mean) / sqrt(var + eps)",
                \.eps),

        // MARK: Training
        .integer("epochs", .training, sweepable: true, atLeast: 1,
                 meaning: "passes over the training split; with steps > 0 the step budget decides instead",
                 \.epochs),
        .integer("steps", .training, sweepable: true, atLeast: 0,
                 meaning: "optimizer steps of the training, 0 = epochs decides; otherwise as many epochs as the"
                    + " steps need, the last one cut at the budget (a fixed step budget at every batch size)",
                 \.steps),
        .integer("budget_factor", .training, sweepable: true, atLeast: 1,
                 meaning: "multiplies the training budget (epochs or steps) and the schedule's warmup and step"
                    + " decay with it; convergence_check adds cells with 2",
                 \.budgetFactor),
        .custom("lr_schedule", .training, oneWord: false,
                values: "`constant` | `cosine [min=0]` | `step every=K [gamma=0.1]`, each `[warmup=W]"
                    + " [warmup_start=0.3333]`",
                meaning: "the learning rate of step t as a factor of lr_used, as torch.optim.lr_scheduler defines"
                    + " it, stepped once per optimizer step: linear warmup (LinearLR(start_factor=warmup_start,"
                    + " total_iters=W)) for t < W, then constant, CosineAnnealingLR(T_max=T-W, eta_min=min*lr)"
                    + " or StepLR(step_size=K, gamma); T = the cell's optimizer steps (formulas in"
                    + " Experiments/README.md)",
                parse: SettingParsers.lrSchedule, render: SettingParsers.renderLRSchedule),
        .integer("batch_size", .training, sweepable: true, atLeast: 1, meaning: "training batch size",
                 \.batchSize),
        .custom("optimizer", .training, oneWord: false,
                values: "`sgd [lr=0.01] [momentum=0.9] [dampening=0] [weight_decay=0] [nesterov=off]` | "
                    + "`adam [lr=0.001] [betas=0.9,0.999] [eps=1e-08] [weight_decay=0]` | `adamw` (as adam, "
                    + "weight_decay=0.01)",
                meaning: "PyTorch's SGD / Adam / AdamW. lr > 0; sgd momentum in [0, 1), dampening in [0, 1]; "
                    + "nesterov needs momentum > 0 and dampening 0; betas in [0, 1); adam's weight decay is L2 "
                    + "in the gradient, adamw's is decoupled",
                parse: SettingParsers.optimizer, render: SettingParsers.renderOptimizer),
        .custom("lr", .training, sweepable: true, values: "number > 0",
                meaning: "replaces the optimizer's lr (which then must not be given there)",
                parse: SettingParsers.learningRate, render: SettingParsers.renderLearningRate),
        .choice("lr_scaling", .training,
                meaning: "lr_used = lr * f(batch_size / base_batch_size), f = 1, k, sqrt(k)", \.lrScaling),
        .integer("base_batch_size", .training, atLeast: 1,
                 meaning: "the batch size at which lr_used = lr; needs lr_scaling", \.baseBatchSize),
        SpecKey("seeds", .training, values: "integers in [0, 2^64)",
                meaning: "the repetitions: one cell per seed, innermost axis of the grid", role: .seeds,
                fixedDefault: "0"),
        .integer("threads", .training, atLeast: 1,
                 meaning: "OpenBLAS threads of the whole run; one value per spec: sweep, quick and variant refuse it",
                 \.threads)
            .perSpec(because: "OpenBLAS's thread count is process-wide and the cells of a run train concurrently in"
                     + " one process, so a value per cell could not act"),

        // MARK: Evaluation
        .integer("eval_batch_size", .evaluation, sweepable: true, atLeast: 1,
                 meaning: "batch size of the batch-statistics evaluation", \.evalBatchSize),
        .custom("recalibrate_samples", .evaluation, sweepable: true, values: "all | integer >= 1",
                meaning: "samples that re-estimate the BatchNorm statistics; all = the whole split named by recalibrate_data",
                parse: SettingParsers.recalibrateSamples, render: SettingParsers.renderRecalibrateSamples),
        .integer("recalibrate_batch_size", .evaluation, sweepable: true, atLeast: 1,
                 meaning: "batch size of the recalibration passes", \.recalibrateBatchSize),
        .choice("recalibrate_estimator", .evaluation, sweepable: true,
                meaning: "population: mean and (biased) variance of all recalibration values together, fvcore"
                    + " PreciseBN's estimator; mean-of-batch-variances: the mean of the batch means and of the unbiased batch variances",
                \.recalibrateEstimator),
        .choice("recalibrate_data", .evaluation, sweepable: true,
                meaning: "test = AdaBN: statistics re-estimated on the unlabelled test inputs", \.recalibrateData),
        .integer("mc_samples", .evaluation, sweepable: true, atLeast: 0,
                 meaning: "Monte-Carlo dropout passes at evaluation; 0 = off", \.mcSamples),
        .onOff("forgot_eval", .evaluation, meaning: "also evaluate as if model.eval() had been forgotten",
               \.forgotEval),
        .custom("forgot_eval_batches", .evaluation, sweepable: true, values: "all | integer >= 1",
                meaning: "how many test batches (of eval_batch_size, in the test split's order) the forgotten"
                    + " train-mode pass runs over before the model is evaluated properly; needs forgot_eval",
                parse: SettingParsers.forgotEvalBatches, render: SettingParsers.renderForgotEvalBatches),
        .number("forgot_eval_shift", .evaluation, sweepable: true, in: .any,
                meaning: "the forgotten pass sees x' = x + shift (test data whose statistics differ: a brightness"
                    + " change in units of the standardized inputs); the proper evaluations see the test split"
                    + " unchanged; needs forgot_eval", \.forgotEvalShift),
        .onOff("class_blocked_eval", .evaluation,
               meaning: "also measure train mode over class-blocked test batches: the test split grouped by label"
                   + " (split order within a class), each batch of the training batch size from one class",
               \.classBlockedEval),
        .onOff("metric_bug", .evaluation,
               meaning: "also report the accuracy of an evaluation loop that writes n_correct = batch_correct instead of +=",
               \.metricBug),

        // MARK: Grid and quick runs
        SpecKey("sweep", .grid, values: "`KEY V1 V2 ...`",
                meaning: "one axis of the grid; the first sweep line varies slowest", role: .sweep),
        SpecKey("variant", .grid, sweepable: true, values: "`NAME [KEY=VALUE ...]`",
                meaning: "a named set of overrides, used only as a value of `sweep variant` (or `quick_sweep "
                    + "variant`); NAME is letters, digits, - and _; each KEY is a setting with a one-word value. "
                    + "Precedence: defaults < fixed lines (< quick) < swept values < the cell's variant",
                role: .variant, fixedDefault: "none"),
        SpecKey("quick", .grid, values: "`KEY=VALUE ...`",
                meaning: "overrides under `bnlab run --quick`, for keys with one-word values and seeds=S1,S2,...",
                role: .quick, fixedDefault: "none"),
        SpecKey("quick_sweep", .grid, values: "`KEY V1 V2 ...`",
                meaning: "replaces the values of the sweep of KEY under --quick", role: .sweep),
        SpecKey("convergence_check", .grid, values: "`all` | `KEY=V1[,V2...] ...`",
                meaning: "the convergence check: every cell of the grid whose value of each KEY is one of its list"
                    + " (all: every cell)"
                    + " is trained again with twice its budget (budget_factor doubled, seeds as the grid's), and the"
                    + " report compares the two; these cells follow the grid's, budget_factor in their key",
                role: .convergenceCheck, fixedDefault: "none"),
    ]

    /// The entries by name.
    static let byName: [String: SpecKey] = Dictionary(uniqueKeysWithValues: keys.map { ($0.name, $0) })

    /// Every name, in table order (the candidates of "did you mean").
    static let names: [String] = keys.map(\.name)

    /// The names `sweep` accepts.
    static let sweepableNames: [String] = keys.filter(\.sweepable).map(\.name)

    /// The names `quick KEY=VALUE` accepts: settings with one-word values that may differ
    /// between cells, and `seeds`.
    static let quickNames: [String] = keys.filter { key in
        if case .seeds = key.role { return true }
        if case .setting = key.role { return key.oneWord && key.perSpecReason == nil }
        return false
    }.map(\.name)

    /// The names a `variant` line may set: the settings with one-word values that may differ between cells.
    static let variantNames: [String] = settings.filter { $0.oneWord && $0.perSpecReason == nil }.map(\.name)

    /// The setting entries, in table order.
    package static let settings: [SpecKey] = keys.filter { if case .setting = $0.role { return true } else { return false } }
}
