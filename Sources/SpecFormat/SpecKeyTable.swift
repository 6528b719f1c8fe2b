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
        .choice("test_storage", .data, sweepable: true,
                meaning: "the lossy format the test images were stored in before standardization (the training"
                    + " images stay as loaded): uint8 / uint4 = each image min-max scaled to 256 / 16 levels and"
                    + " back; half-resolution = 2x2 block means repeated over their blocks (formulas in"
                    + " Sources/SpecFormat/DataSettings.swift)", \.testStorage),
        .choice("order", .data, sweepable: true,
                meaning: "training batches: reshuffled every epoch; the split sorted by label, never shuffled; "
                    + "every batch from one class (class order shuffled per epoch)", \.order),
        .onOff("drop_last", .data,
               meaning: "drop the last, smaller training batch of each epoch; off with a BatchNorm model warns",
               \.dropLast),

        // MARK: Model
        .custom("model", .model, oneWord: false,
                values: "`cnn channels=C1,C2,... [kernel=3]` | `mlp widths=W1,W2,...` | "
                    + "`resnet blocks=B1,B2,... channels=C1,C2,... [stem=C1]`",
                meaning: "cnn, per entry: conv KxK (padding K/2, K odd) -> norm -> activation -> maxpool 2; then "
                    + "flatten -> dropout -> linear. mlp, per entry: linear -> norm -> activation -> dropout; then "
                    + "linear. resnet (He et al. 2016, CIFAR family; blocks=1,1,1 channels=16,32,64 is ResNet-8): "
                    + "stem conv3x3 to stem channels -> norm -> activation; per stage Bi basic blocks of Ci channels "
                    + "(conv3x3-norm-activation-conv3x3-norm + shortcut, then activation), the first block of each "
                    + "stage after the first with stride 2, a conv1x1 + norm projection shortcut where the shape "
                    + "changes; global average pooling -> dropout -> linear. Convs have no bias before a norm. "
                    + "Counts >= 1. With norm mabn every conv is centred (no bias), with cbn each conv and its norm are "
                    + "one layer (the norm reads the conv weight), as their authors' ResNets build them; frn, "
                    + "evonorm_s0 and evonorm_b0 replace norm -> activation at the stem and a block's first norm, and "
                    + "are built without their nonlinearity (timm's apply_act=False) at a block's second norm and the "
                    + "projection's, the activation after the addition kept (timm's post-activation blocks)",
                parse: SettingParsers.model, render: SettingParsers.renderModel),
        .custom("activation", .model, oneWord: false, values: "`relu` | `leaky_relu [slope=0.01]`",
                meaning: "the nonlinearity of every block (and after every residual addition, also with frn and the"
                    + " evonorms): PyTorch's ReLU,"
                    + " or LeakyReLU y = x > 0 ? x : slope * x, slope in [0, 1) (PyTorch's default 0.01;"
                    + " the gradient at x = 0 is slope)",
                parse: SettingParsers.activation, render: SettingParsers.renderActivation)
            .omittedFromDescriptionsAtDefault(),
        .choice("norm", .model, sweepable: true,
                meaning: "the normalization layer of every block. frn: Filter Response Normalization + TLU (Singh &"
                    + " Krishnan 2020, timm's FilterResponseNormTlu2d), z = max(x / sqrt(mean_HW(x^2) + eps) * weight"
                    + " + bias, tau). evonorm_s0: EvoNorm-S0 (Liu et al. 2020, timm's EvoNorm2dS0), y = x *"
                    + " sigmoid(v * x) / sqrt(var_g + eps) * weight + bias, var_g the biased variance of each sample's"
                    + " group of C/groups channels (groups as below). evonorm_b0: EvoNorm-B0 (timm's EvoNorm2dB0),"
                    + " y = x / max(sqrt(var + eps), v * x + sqrt(var_HW + eps)) * weight + bias, var the biased batch"
                    + " variance per channel in train mode and the running variance in eval mode, var_HW each"
                    + " sample's own per channel; it keeps only a running variance (momentum as below; recalibration"
                    + " leaves it as trained). All three are normalization-activation layers: they replace the"
                    + " block's norm -> ReLU (no ReLU follows them), and are defined for conv features only (an error"
                    + " with model mlp); in a resnet the norms before each addition are timm's apply_act=False forms:"
                    + " frn without the max, evonorm_s0 and evonorm_b0 the affine x * weight + bias only (timm's code);"
                    + " fixup (model resnet only): no normalization, Fixup's scalar biases and scale per block"
                    + " and its init (Zhang et al. 2019, the authors' fixup_resnet_cifar.py: residual branch conv1"
                    + " He-normal (fan_out) * L^-1/2, conv2 and the classifier 0, a parameter-free subsample +"
                    + " zero-channel shortcut)",
                \.norm),
        .integer("groups", .model, sweepable: true, atLeast: 1,
                 meaning: "the number of channel groups of GroupNorm and of EvoNorm-S0's group std (timm's groups,"
                    + " whose default is 32; timm's group_size is not offered); must divide every channel count (mlp:"
                    + " width) when norm is group or evonorm_s0",
                 \.groups),
        .custom("momentum", .model, sweepable: true, values: "number in (0, 1] | cumulative",
                meaning: "the running-statistics momentum of BatchNorm, Batch Renorm, CBN and EvoNorm-B0's running"
                    + " variance, in momentum_convention's meaning (PyTorch's by default: running = (1 - momentum) *"
                    + " running + momentum * batch); cumulative = PyTorch's momentum=None (not with cbn or"
                    + " evonorm_b0); in PyTorch's convention > 0.5 warns (Keras's 0.9 is PyTorch's 0.1), in Keras's"
                    + " < 0.5 warns (a PyTorch value pasted)",
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
        .custom("mabn", .model, oneWord: false, values: "`[buffer=16] [warmup=100]`",
                meaning: "Moving Average BatchNorm (megvii-model/MABN MABN.py; every conv before it is centred, "
                    + "W - mean(W) per filter, without bias): no mean subtraction; x / sqrt(v + eps) with v = the "
                    + "batch's E[x^2] for the first max(buffer, warmup - 1) train passes, then the mean of the "
                    + "last buffer (>= 1) passes' E[x^2], the gradient statistic likewise; r = sqrt(v + eps) / "
                    + "sqrt(running_var + eps) is 1 up to pass max(1000, warmup) (warmup >= 0), then clipped to "
                    + "[1/5, 5]; running_var = 0.98 * running_var + 0.02 * v, the code's momentum 0.98, which "
                    + "the momentum key does not set",
                parse: SettingParsers.mabn, render: SettingParsers.renderMABN),
        .custom("cbn", .model, oneWord: false, values: "`[buffer=3] [burnin=0] [rho=1] [two_stage=on]`",
                meaning: "Cross-Iteration BatchNorm (Howal/Cross-iterationBatchNorm CBN.py; every conv before it "
                    + "without bias): mean and E[x^2] of this and the last buffer (>= 1) train passes, the past "
                    + "ones compensated to the current conv weight, stat + rho * dstat/dW (W - W_past) (past and "
                    + "compensation without gradient), a pass dropped where its E[x^2] - mean^2 < 0; for the "
                    + "first burnin (>= 0) passes (two_stage on) batch statistics with the unbiased variance, "
                    + "two_stage off: the buffer grows linearly over burnin (>= 1) instead; y = (x - mean) / "
                    + "(sqrt(var) + eps); running statistics as BatchNorm's from the current batch (momentum)",
                parse: SettingParsers.cbn, render: SettingParsers.renderCBN),
        .number("dropout", .model, sweepable: true, in: .fractionBelowOne,
                meaning: "p, the probability of dropping a unit; kept units are scaled by 1/(1-p) (dropout_convention"
                    + " inverted)",
                \.dropProbability),
        .choice("dropout_convention", .model, sweepable: true,
                meaning: "where dropout's factor 1 - p goes, b ~ Bernoulli(1 - p) per unit: inverted (PyTorch's"
                    + " nn.Dropout) y_train = x * b / (1 - p), y_eval = x; classical (Srivastava et al. 2014, seed"
                    + " 001) y_train = x * b, y_eval = (1 - p) * x; both keep E[y_train] = y_eval. With dropout > 0 (and"
                    + " dropout_in_eval off), test_acc_eval_mixed_dropout measures eval mode with the other convention's eval rule",
                \.dropoutConvention)
            .omittedFromDescriptionsAtDefault(),
        .onOff("dropout_in_eval", .model, sweepable: true,
               meaning: "on: the functional-dropout bug (pytorch/pytorch#26338: F.dropout(x, p) defaults to"
                   + " training=True): every Dropout layer ignores the mode and draws masks in eval mode too; off:"
                   + " dropout is the identity (classical: the factor 1 - p) in eval mode",
               \.dropoutInEval)
            .omittedFromDescriptionsAtDefault(),
        .number("drop_path", .model, sweepable: true, in: .fractionBelowOne,
                meaning: "stochastic depth (model resnet only; Huang et al. 2016, timm's DropPath with scale_by_keep):"
                    + " on the residual branch of block i (i = 0 ... L - 1 over all stages, L >= 2 blocks) before"
                    + " the addition, rate_i = drop_path * i / (L - 1) (timm's linear decay rule), per sample"
                    + " y = x * b / (1 - rate_i), b ~ Bernoulli(1 - rate_i); the identity in eval mode",
                \.dropPathRate)
            .omittedFromDescriptionsAtDefault(),
        .number("eps", .model, in: .above(0),
                meaning: "normalization epsilon of every norm: x_hat = (x - mean) / sqrt(var + eps); cbn: (x - mean)"
                    + " / (sqrt(var) + eps), as CBN.py; frn: x / sqrt(mean_HW(x^2) + eps), fixed (timm's default"
                    + " 1e-5 too); evonorm_s0: sqrt(var_g + eps) (timm's default 1e-5 too); evonorm_b0: both square"
                    + " roots (timm's default is 1e-3: set eps 1e-3 to match it)",
                \.eps),

        // MARK: Training
        .integer("epochs", .training, sweepable: true, atLeast: 1,
                 meaning: "passes over the training split; with steps > 0 the step budget decides instead",
                 \.epochs),
        .integer("steps", .training, sweepable: true, atLeast: 0,
                 meaning: "optimizer steps of the training, 0 = epochs decides; otherwise as many epochs as the"
                    + " steps need, the last one cut at the budget (a fixed step budget at every batch size)",
                 \.steps),
        .integer("min_steps", .training, sweepable: true, atLeast: 0,
                 meaning: "with an epoch budget, at least this many optimizer steps, in whole epochs: the cell"
                    + " trains max(epochs, ceil(min_steps / B)) epochs, B = its batches per epoch, so that large"
                    + " batches still take enough steps; 0 = epochs alone decides",
                 \.minSteps)
            .omittedFromDescriptionsAtDefault().columnOnlyWhereUsed(),
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
        .choice("validation", .training, sweepable: true,
                meaning: "a validation pass over the test split after every epoch, as a training loop prints it:"
                    + " eval = model.eval() under no_grad (the model unchanged); train-mode = no_grad without"
                    + " model.eval(): every validation batch updates the BatchNorm running statistics and dropout"
                    + " stays on (pytorch/pytorch#31361); val_acc_last_epoch is the last pass's accuracy",
                \.validation),
        .integer("validation_batch_size", .training, sweepable: true, atLeast: 1,
                 meaning: "batch size of the validation passes; needs validation", \.validationBatchSize),
        .onOff("epoch_eval", .training,
               meaning: "after every epoch, the test split in eval mode (batches of max(eval_batch_size, 64)) with the"
                   + " running statistics as training left them (the EMA of momentum) and, on a copy, with"
                   + " statistics re-estimated by the recalibrate_* settings (PreciseBN); one row per cell and epoch"
                   + " in NAME-epochs.csv (Wu & Johnson 2021, EMA against PreciseBN)", \.epochEval)
            .omittedFromDescriptionsAtDefault(),
        .choice("weight_average", .training, sweepable: true,
                meaning: "an averaged copy of the weights beside the trained model, measured as test_acc_averaged:"
                    + " ema = after every optimizer step ema = decay * ema + (1 - decay) * live (timm ModelEmaV2,"
                    + " from the model as initialized); swa = the equal-weight running average (AveragedModel's"
                    + " default) of the weights at the end of every epoch from epoch floor(0.75 * epochs) + 1 on"
                    + " (the last 25%; the first average copies)", \.weightAverage)
            .omittedFromDescriptionsAtDefault(),
        .custom("ema_decay", .training, sweepable: true, values: "number in (0, 1)",
                meaning: "the EMA's decay; after T steps the initial weights keep decay^T of the average"
                    + " (0.9999 over 1,000 steps: 90%); needs weight_average ema",
                parse: SettingParsers.emaDecay, render: SettingParsers.renderEMADecay)
            .omittedFromDescriptionsAtDefault(),
        .choice("weight_average_buffers", .training, sweepable: true,
                meaning: "the averaged model's BatchNorm buffers: averaged = with the parameters' rule (ModelEmaV2;"
                    + " AveragedModel(use_buffers=True)), num_batches_tracked through float and truncated as copy_"
                    + " does; live = copied from the live model at every update (ModelEmaV3 exclude_buffers=True;"
                    + " AveragedModel(use_buffers=False) since PyTorch 2.0); stale = the copy's creation values"
                    + " (AveragedModel before pytorch/pytorch#84054, no update_bn); recalibrated = stale, then"
                    + " update_bn after training (reset, momentum=None over the whole training split in train"
                    + " mode, batches of batch_size: the mean-of-batch-variances estimator); needs weight_average",
                \.weightAverageBuffers)
            .omittedFromDescriptionsAtDefault(),
        .integer("finetune_epochs", .training, sweepable: true, atLeast: 0,
                 meaning: "a second training phase after the first (0 = none): only the classifier (the model's"
                    + " last linear layer, from its trained weights) trains, for this many epochs over the training"
                    + " split shifted by finetune_shift (batch size, order and drop_last as in the first phase),"
                    + " with a fresh optimizer of the optimizer settings over the classifier's parameters: step t"
                    + " of its T2 steps has the rate lr_used * lr_schedule's factor(t, T2), the schedule restarted"
                    + " (warmup too); every other layer is frozen as freeze says; budget_factor multiplies it too."
                    + " The measured columns then refer to the shifted data (the deployment distribution), with"
                    + " test_acc_before_finetune, test_acc_unshifted and test_acc_unshifted_before_finetune beside"
                    + " them, and train_acc_running and final_train_loss are the fine-tuning's last epoch's;"
                    + " excludes validation, epoch_eval and weight_average",
                 \.finetuneEpochs)
            .omittedFromDescriptionsAtDefault().columnOnlyWhereUsed(),
        .number("finetune_shift", .training, sweepable: true, in: .any,
                meaning: "x' = x + shift for every input value (units of the standardized inputs) of the"
                    + " fine-tuning data and of both splits as the measured columns see them; the first phase"
                    + " trains on the unshifted data; needs finetune_epochs > 0", \.finetuneShift)
            .omittedFromDescriptionsAtDefault().columnOnlyWhereUsed(),
        .choice("freeze", .training, sweepable: true,
                meaning: "how the layers other than the classifier are frozen while it is fine-tuned: their"
                    + " parameters never change, and their normalization layers (dropout stays in train mode)"
                    + " run as: requires-grad = PyTorch's requires_grad_(False) alone, train mode: batch"
                    + " statistics, running statistics updated; eval = FrozenBN, the BatchNorm modules in eval"
                    + " mode: running statistics, unchanged; keras = TensorFlow >= 2.0's trainable=False, inference"
                    + " mode (keras PR #13892): trains as eval (the two share one training); keras-tf1 = Keras"
                    + " 2.1.3 to 2.x multi-backend and TF 1.x's trainable=False (keras PR #9965), also Lightning's"
                    + " BaseFinetuning since its PR #15063: batch statistics, running statistics not updated;"
                    + " eval-then-train = Lightning-AI/pytorch-lightning#2551: eval mode in the first fine-tuning"
                    + " epoch, train mode after the blanket model.train() that ends its validation. keras-tf1 is"
                    + " refused with norm mabn and cbn; needs finetune_epochs > 0 and a norm with running"
                    + " statistics", \.freeze)
            .omittedFromDescriptionsAtDefault().columnOnlyWhereUsed(),
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
                 meaning: "threads each cell computes on (no number depends on them); --jobs defaults to the cores"
                     + " divided by it; one value per spec: sweep, quick and variant refuse it",
                 \.threads)
            .perSpec(because: "the run divides its cores by it once (--jobs defaults to the cores divided by"
                     + " threads), so a value per cell could not act"),

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
        .custom("adapt_prior", .evaluation, sweepable: true, values: "off | number >= 0",
                meaning: "test-time BatchNorm adaptation with a prior (Schneider et al. 2020, their code"
                    + " bethgelab/robustness): each BatchNorm (and Batch Renorm) normalizes with w * running + (1 - w)"
                    + " * batch for the mean and the variance (the batch's unbiased), w = N / (N + n), N this value,"
                    + " n = eval_batch_size; measured as adapted_accuracy on test batches of eval_batch_size, the"
                    + " running statistics untouched. 0 = AdaBN on each batch, large N = eval mode; needs a norm with"
                    + " BatchNorm's running statistics (batch with track_running_stats on, or batchrenorm)",
                parse: SettingParsers.adaptPrior, render: SettingParsers.renderAdaptPrior),
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
        .onOff("mixed_dropout_eval", .evaluation,
               meaning: "also measure eval mode with the other dropout convention's eval rule"
                   + " (test_acc_eval_mixed_dropout: the trained weights in a copy built with the other"
                   + " dropout_convention); needs dropout > 0 and dropout_in_eval off", \.mixedDropoutEval)
            .omittedFromDescriptionsAtDefault(),
        .onOff("train_mode_train_split", .evaluation,
               meaning: "also measure train mode over the training split (train_acc_train_mode: batch statistics over"
                   + " batches of the training batch size, ghost batches as in training), Wu & Johnson 2021's"
                   + " mini-batch curve on the training set", \.trainModeOnTrainSplit)
            .omittedFromDescriptionsAtDefault(),
        .onOff("lossy_reload", .evaluation,
               meaning: "also save the trained model's parameters only (torch.save of parameters(), no BatchNorm"
                   + " buffers) as safetensors, load them into a freshly built model with strict=False, and"
                   + " evaluate it, before and after recalibrating it (the strict load's missing-keys error is"
                   + " kept in the cell's notes)", \.lossyReload),
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
