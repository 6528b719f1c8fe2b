import NN

/// Records a training run so that another framework can replay it step by step
/// (`bnlab export-training`, replayed by `Benchmarks/pytorch_reference.py replay`): the initial state,
/// and per optimizer step the batch, the loss, the L2 norm of every float state tensor and every
/// dropout mask, plus the whole state after each of the first ``fullStateSteps`` steps. State is
/// named as PyTorch's `state_dict()` names it (``StateDictEntry``).
///
/// Why norms as well as full states: full states at every step would take `steps * parameters`
/// floats (230 MB for the flagship at batch 1), so they are kept for the first steps only. After
/// those, a norm that differs by more than a relative `r` proves that the tensor differs by more
/// than `r` (`|‖a‖ - ‖b‖| <= ‖a - b‖`): the norms bound from above the first step where two runs
/// part, the full states find it exactly within the first ``fullStateSteps``.
///
/// It only reads the model (parameter values, running statistics, ``Dropout/lastMask``), so a
/// recorded run computes exactly what an unrecorded one does.
public final class TrainingRecorder: TrainingObserver {
    /// Steps after which the whole state is kept (the first ones).
    public let fullStateSteps: Int
    /// The state before the first step; nil until training starts.
    public private(set) var initialState: SafeTensorsFile?
    /// Optimizer steps recorded so far.
    public private(set) var steps = 0

    private var entries: [(key: String, shape: [Int], integer: Bool)] = []
    private var epochs: [Int32] = []
    private var batchSizes: [Int32] = []
    private var indices: [Int32] = []
    private var losses: [Float] = []
    private var rates: [Float] = []
    /// Per float entry (in `entries` order, integers skipped), one norm per step.
    private var norms: [[Float]] = []
    /// Per entry, the values after each of the first `fullStateSteps` steps, concatenated.
    private var fullFloats: [[Float]] = []
    private var fullIntegers: [[Int64]] = []
    /// Per Dropout layer: its module path (`9`, `dropout`), the layer, values per sample, and 1 (kept) /
    /// 0 (dropped) per value of every step's batch, concatenated.
    private var masks: [(path: String, perSample: Int, kept: [UInt8])] = []

    public init(fullStateSteps: Int) {
        precondition(fullStateSteps >= 0, "fullStateSteps must be >= 0, got \(fullStateSteps)")
        self.fullStateSteps = fullStateSteps
    }

    public func trainingWillStart(model: Sequential) {
        initialState = model.stateDict()
        entries = model.stateDictEntries.map { ($0.key, $0.shape, $0.dtype != .f32) }
        norms = Array(repeating: [], count: entries.count)
        fullFloats = Array(repeating: [], count: entries.count)
        fullIntegers = Array(repeating: [], count: entries.count)
        masks = model.namedDropoutLayers.map { ($0.path, 0, []) }
    }

    public func stepFinished(_ step: TrainingStep, model: Sequential) {
        steps += 1
        epochs.append(Int32(step.epoch))
        batchSizes.append(Int32(step.batch.count))
        indices += step.batch.map { Int32($0) }
        losses.append(step.loss)
        rates.append(step.learningRate)
        for (e, entry) in model.stateDictEntries.enumerated() {
            let value = entry.value
            if let floats = value.floats {
                norms[e].append(Float(floats.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()))
                if steps <= fullStateSteps { fullFloats[e] += floats }
            } else if steps <= fullStateSteps {
                fullIntegers[e] += value.integers!.map { Int64($0) }
            }
        }
        let dropouts = model.namedDropoutLayers
        for m in masks.indices {
            let dropout = dropouts[m].layer
            guard let mask = dropout.lastMask else {
                preconditionFailure("\(dropout.name) at \(masks[m].path) drew no mask in a training step")
            }
            masks[m].perSample = mask.count / max(step.batch.count, 1)
            masks[m].kept += mask.map { $0 != 0 ? 1 : 0 }
        }
    }

    /// `steps.safetensors`: per step (S steps, B samples in all):
    /// `epoch` I32 (S), `batch_size` I32 (S), `indices` I32 (B: the batches one after another, indices
    /// into the training split), `loss` F32 (S), `lr` F32 (S, the learning rate of each update, the
    /// schedule's value), `norm.KEY` F32 (S) for every float state tensor (after
    /// the step), `dropout_mask.PATH` U8 (B, values per sample) per Dropout layer (PATH its module path: its
    /// index in a cnn or mlp, `dropout` in a resnet), 1 = kept.
    public func stepsFile(metadata: [String: String]? = nil) -> SafeTensorsFile {
        var tensors: [String: SafeTensor] = [
            "epoch": SafeTensor(epochs, shape: [steps]),
            "batch_size": SafeTensor(batchSizes, shape: [steps]),
            "indices": SafeTensor(indices, shape: [indices.count]),
            "loss": SafeTensor(losses, shape: [steps]),
            "lr": SafeTensor(rates, shape: [steps]),
        ]
        for (e, entry) in entries.enumerated() where !entry.integer {
            tensors["norm." + entry.key] = SafeTensor(norms[e], shape: [steps])
        }
        for m in masks {
            let rows = m.perSample == 0 ? 0 : m.kept.count / m.perSample
            tensors["dropout_mask.\(m.path)"] = SafeTensor(m.kept, shape: [rows, m.perSample])
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    /// `trajectory.safetensors`: per state key, its values after steps 1...K stacked, shape `(K, *shape)`,
    /// K = min(``fullStateSteps``, steps).
    public func trajectoryFile(metadata: [String: String]? = nil) -> SafeTensorsFile {
        let k = min(fullStateSteps, steps)
        var tensors: [String: SafeTensor] = [:]
        for (e, entry) in entries.enumerated() {
            tensors[entry.key] = entry.integer ? SafeTensor(fullIntegers[e], shape: [k] + entry.shape)
                : SafeTensor(fullFloats[e], shape: [k] + entry.shape)
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }
}
