import Foundation

// The typed values of the training settings of a spec (`optimizer`, `lr_scaling`).

/// The optimizer and its hyper-parameters (`optimizer`, `lr`), in PyTorch's conventions.
public enum OptimizerSettings: Hashable, Sendable {
    /// SGD with momentum.
    case sgd(SGDSettings)
    /// Adam; weight decay is L2 added to the gradient (PyTorch's `Adam`).
    case adam(AdamSettings)
    /// AdamW; weight decay is decoupled: p = p - lr * weightDecay * p (PyTorch's `AdamW`).
    case adamw(AdamSettings)

    /// The spec name: `sgd`, `adam` or `adamw`.
    public var name: String {
        switch self {
        case .sgd: return "sgd"
        case .adam: return "adam"
        case .adamw: return "adamw"
        }
    }

    /// The base learning rate, before `lr_scaling`.
    public var learningRate: Float {
        get {
            switch self {
            case let .sgd(s): return s.learningRate
            case let .adam(a), let .adamw(a): return a.learningRate
            }
        }
        set {
            switch self {
            case var .sgd(s): s.learningRate = newValue; self = .sgd(s)
            case var .adam(a): a.learningRate = newValue; self = .adam(a)
            case var .adamw(a): a.learningRate = newValue; self = .adamw(a)
            }
        }
    }
}

/// SGD with momentum, PyTorch's formulation:
/// g = grad + weightDecay * p; buf = momentum * buf + (1 - dampening) * g
/// (buf = g at the first step); step = nesterov ? g + momentum * buf : buf; p = p - lr * step.
public struct SGDSettings: Hashable, Sendable {
    /// lr > 0, before `lr_scaling`.
    public var learningRate: Float
    /// In [0, 1).
    public var momentum: Float
    /// In [0, 1].
    public var dampening: Float
    /// L2 coefficient, >= 0.
    public var weightDecay: Float
    /// Nesterov momentum (needs momentum > 0 and dampening 0).
    public var nesterov: Bool

    /// SGD settings; the defaults are those of `optimizer sgd`.
    public init(learningRate: Float = 0.01, momentum: Float = 0.9, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }
}

/// Adam / AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019), PyTorch's defaults.
public struct AdamSettings: Hashable, Sendable {
    /// lr > 0, before `lr_scaling`.
    public var learningRate: Float
    /// Decay of the first-moment average, in [0, 1).
    public var beta1: Float
    /// Decay of the second-moment average, in [0, 1).
    public var beta2: Float
    /// Added to sqrt(v_hat) in the denominator.
    public var eps: Float
    /// >= 0: L2 in the gradient (adam) or decoupled (adamw).
    public var weightDecay: Float

    /// Adam settings; the defaults are those of `optimizer adam` (`adamw`: weightDecay 0.01).
    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
    }
}

/// How the learning rate follows the batch size (`lr_scaling`):
/// lr_used = lr * f(batch_size / base_batch_size).
public enum LRScaling: String, CaseIterable, Hashable, Sendable {
    /// f(k) = 1
    case none
    /// f(k) = k (Goyal et al. 2017)
    case linear
    /// f(k) = sqrt(k) (Krizhevsky 2014)
    case sqrt

    /// f(batchSize / baseBatchSize).
    public func factor(batchSize: Int, baseBatchSize: Int) -> Double {
        let k = Double(batchSize) / Double(baseBatchSize)
        switch self {
        case .none: return 1
        case .linear: return k
        case .sqrt: return k.squareRoot()
        }
    }
}

/// `lr_schedule`: the learning rate of optimizer step `t` = 0, 1, ..., T - 1 (T = the cell's optimizer
/// steps), `lr(t) = lr_used * factor(t)`, as `torch.optim.lr_scheduler` defines the schedules when
/// `scheduler.step()` follows every `optimizer.step()`:
/// - warmup, `LinearLR(start_factor=s, total_iters=W)`: `factor(t) = s + (1 - s) * t / W` for t < W;
/// - then, with u = t - W and U = T - W (`SequentialLR([LinearLR, main], milestones=[W])` when W > 0):
///   - `constant`: 1;
///   - `cosine`, `CosineAnnealingLR(T_max=U, eta_min=m * lr_used)`: `m + (1 - m) * (1 + cos(pi * u / U)) / 2`;
///   - `step`, `StepLR(step_size=k, gamma=g)`: `g^floor(u / k)`.
/// The factor is computed in Double in closed form (torch's schedulers update recursively; the two
/// agree to rounding of Double, far below the float32 learning rate).
public struct LRSchedule: Hashable, Sendable {
    public enum Shape: Hashable, Sendable {
        case constant
        /// Cosine annealing to `minimumFactor * lr_used`.
        case cosine(minimumFactor: Float)
        /// Multiplied by `gamma` every `every` steps.
        case step(every: Int, gamma: Float)
    }

    public var shape: Shape
    /// W, the linear warmup's steps (0 = none).
    public var warmupSteps: Int
    /// s, the warmup's first factor; PyTorch's LinearLR default is 1/3 (here the float nearest it, as
    /// every number of a spec is a float).
    public var warmupStartFactor: Float

    public init(shape: Shape = .constant, warmupSteps: Int = 0, warmupStartFactor: Float = 1.0 / 3) {
        self.shape = shape; self.warmupSteps = warmupSteps; self.warmupStartFactor = warmupStartFactor
    }

    /// `factor(t)` for step `t` of `totalSteps`.
    public func factor(step t: Int, totalSteps: Int) -> Double {
        if t < warmupSteps {
            let s = Double(warmupStartFactor)
            return s + (1 - s) * Double(t) / Double(warmupSteps)
        }
        let u = t - warmupSteps, span = max(totalSteps - warmupSteps, 1)
        switch shape {
        case .constant:
            return 1
        case let .cosine(minimum):
            let m = Double(minimum)
            return m + (1 - m) * (1 + cos(Double.pi * Double(u) / Double(span))) / 2
        case let .step(every, gamma):
            return pow(Double(gamma), Double(u / every))
        }
    }
}

/// The per-epoch validation pass over the test split (`validation`), as a training loop that
/// validates after every epoch runs it.
public enum ValidationMode: String, CaseIterable, Hashable, Sendable {
    /// No validation pass.
    case off
    /// `model.eval()` and `torch.no_grad()`: running statistics, dropout off; the model is unchanged.
    case eval
    /// `torch.no_grad()` without `model.eval()` (pytorch/pytorch#31361): no_grad stops gradients, not
    /// the BatchNorm buffer updates, so every validation batch updates the running statistics
    /// (`running = (1 - momentum) * running + momentum * batch`), and dropout stays on.
    case trainMode = "train-mode"
}

/// Which average of the weights is kept beside the trained model (`weight_average`), measured as
/// `test_acc_averaged` against the live model's `test_acc_eval_mode`.
public enum WeightAverage: String, CaseIterable, Hashable, Sendable {
    /// No averaged model.
    case off
    /// An exponential moving average of the weights after every optimizer step,
    /// `ema = decay * ema + (1 - decay) * live` (timm `ModelEmaV2`), from the model as initialized.
    case ema
    /// Stochastic Weight Averaging (Izmailov et al. 2018, `torch.optim.swa_utils.AveragedModel`'s
    /// default): the equal-weight running average of the weights at the end of each of the last 25%
    /// of the epochs.
    case swa
}

/// What the averaged model's BatchNorm buffers (`running_mean`, `running_var`, `num_batches_tracked`)
/// are (`weight_average_buffers`). Formulas in Sources/Experiment/WeightAveraging.swift.
public enum WeightAverageBuffers: String, CaseIterable, Hashable, Sendable {
    /// Averaged with the same rule as the parameters (timm `ModelEmaV2`, `AveragedModel(use_buffers=True)`).
    case averaged
    /// Copied from the live model at every update (timm `ModelEmaV3(exclude_buffers=True)`,
    /// `AveragedModel(use_buffers=False)` since PyTorch 2.0, pytorch/pytorch#84054).
    case live
    /// Left at the averaged copy's creation values, the model as initialized (`AveragedModel(use_buffers=False)`
    /// before pytorch/pytorch#84054, without `update_bn`).
    case stale
    /// Stale, then re-estimated after training as `torch.optim.swa_utils.update_bn` does.
    case recalibrated
}

/// How the feature layers (every layer but the classifier, the model's last Linear) are frozen while the
/// classifier is fine-tuned (`freeze`, with `finetune_epochs` > 0). In every method their parameters do
/// not change; the methods differ in what their normalization layers do with the fine-tuning batches.
/// Dropout stays in train mode in all of them.
public enum FreezeMethod: String, CaseIterable, Hashable, Sendable {
    /// PyTorch's `requires_grad_(False)` on the feature layers and nothing else: `model.train()` keeps their
    /// BatchNorm in train mode, normalizing with batch statistics and updating the running statistics
    /// (`requires_grad` stops gradients, not the buffer updates).
    case requiresGrad = "requires-grad"
    /// FrozenBN: the feature layers' BatchNorm modules in eval mode (`m.eval()` after `model.train()`, as
    /// detectron2's FrozenBatchNorm2d and mmdet's `norm_eval=True` freeze them): running statistics used and
    /// left as they are.
    case eval
    /// TensorFlow >= 2.0's Keras: `trainable=False` on a BatchNormalization runs it in inference mode
    /// (the moving statistics, not updated) even inside `fit` (the TF 2 documentation; datumbox's keras PR
    /// #13892 "Align BN trainable behaviour with TF 2.0"). The same training as ``eval``.
    case keras
    /// Keras 2.1.3 ... 2.x multi-backend and tf.keras of TF 1.x: `trainable=False` drops the moving-statistics
    /// updates but the layer still normalizes with the batch's statistics during `fit` (learning phase 1;
    /// keras PR #9965 proposed the moving statistics instead and was declined). Also Lightning's
    /// `BaseFinetuning.freeze(train_bn=False)` since Lightning-AI/pytorch-lightning#15063
    /// (`track_running_stats = False` in train mode).
    case kerasTF1 = "keras-tf1"
    /// Lightning-AI/pytorch-lightning#2551: the frozen part put in eval mode once, before fitting, and the
    /// blanket `model.train()` that ends every validation puts it back in train mode: eval mode for the first
    /// fine-tuning epoch (validation runs at its end), then as ``requiresGrad``.
    case evalThenTrain = "eval-then-train"
}
