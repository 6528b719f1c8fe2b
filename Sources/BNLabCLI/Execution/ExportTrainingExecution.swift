import Foundation
import Datasets
import Experiment
import NN
import Reports
import SpecFormat
import TensorCore

/// `bnlab export-training SPEC --cell KEY --out DIR [--quick] [--full-state-steps K]`: trains one
/// cell exactly as `bnlab run` does (``CellRunner/run(_:data:cache:onEpoch:observer:)``, with a
/// ``TrainingRecorder`` watching) and writes what `Benchmarks/pytorch_reference.py replay DIR`
/// needs to train the same steps in PyTorch and score bnlab's final weights:
///
/// - `initial.safetensors`, `final.safetensors`: the state before the first and after the last
///   step, by PyTorch's state_dict names (``StateDictEntry``), loadable with
///   `model.load_state_dict(safetensors.torch.load_file(...))` into the twin;
/// - `steps.safetensors`: ``TrainingRecorder/stepsFile(metadata:)`` (per step: epoch, batch size,
///   the batch's indices into the exported training split, the loss, the norm of every float state
///   tensor, the dropout masks), plus `recalibration_indices` I32: the samples, in order, that the
///   recalibration pass draws from its split (train, or test with `recalibrate_data test`);
/// - `trajectory.safetensors`: the whole state after each of the first K steps;
/// - `measurements.csv`: `column,value`, bnlab's status and every measured column at full precision
///   (shortest round-trip text);
/// - `cells.csv`, `metric_columns.txt` and `data-<hash>/`: export-data's files for this one cell.
///
/// A cell whose training PyTorch would refuse (`invalid`) is reported and nothing but the data is
/// written; a diverged cell is written up to its last finished step, with a warning.
enum ExportTrainingExecution {
    static func execute(_ command: ExportTrainingCommand) throws -> Int32 {
        guard let spec = try SpecFiles.load([command.target.spec]).first else { return 2 }
        let configs = spec.cells(quick: command.target.quick)
        guard let index = configs.firstIndex(where: { $0.cellKey() == command.cellKey }) else {
            let keys = configs.map { $0.cellKey() }
            let suggestion = NearestName.nearest(to: command.cellKey, in: keys).map { "; did you mean '\($0)'?" } ?? ""
            throw CommandFailure.input("\(command.target.spec): error: no cell '\(command.cellKey)' in the "
                                       + "\(command.target.quick ? "quick " : "")grid\(suggestion)\nthe \(keys.count) cells are:\n"
                                       + keys.map { "  " + $0 }.joined(separator: "\n"))
        }
        let config = configs[index]
        guard config.validation == .off else {
            // The replay trains the recorded steps only; a train-mode validation pass between epochs
            // would change the running statistics and the dropout streams it cannot see.
            throw CommandFailure.input("\(command.target.spec): error: cell '\(config.cellKey())' validates every epoch"
                                       + " (validation \(config.validation.rawValue)); the PyTorch replay does not replay"
                                       + " validation passes")
        }
        // The replay records and replays nn.Dropout's masks (inverted, the identity in eval mode) and
        // nothing else that draws: refused rather than replayed wrong.
        let unreplayable = [
            (config.dropPathRate > 0, "drop_path \(config.canonicalValue(of: "drop_path") ?? "") (the recorder keeps no"
                + " DropPath masks)"),
            (config.dropProbability > 0 && config.dropoutConvention == .classical,
             "dropout_convention classical (PyTorch's nn.Dropout is inverted)"),
            (config.dropProbability > 0 && config.dropoutInEval,
             "dropout_in_eval on (the replay scores in eval mode with dropout off)"),
            (config.finetuneEpochs > 0, "finetune_epochs \(config.finetuneEpochs) (the recorder sees the first phase"
                + " only, and the replay trains every layer)"),
        ].filter(\.0).map(\.1)
        guard unreplayable.isEmpty else {
            throw CommandFailure.input("\(command.target.spec): error: cell '\(config.cellKey())' uses "
                                       + unreplayable.joined(separator: " and ") + "; the PyTorch replay cannot replay it")
        }
        let cell = Cell(config, index: index)
        let out = command.target.outputDirectory
        let data = try ExportDataExecution.prepare(config, with: DataPreparation())
        try ExportDataExecution.writeSplits(data, folder: ExportDataExecution.dataFolder(config), in: out)
        try ExportDataExecution.writeManifest(cells: [(index, config)], in: out)

        // The cache keeps the trained model as training left it: the run measures a clone of it.
        let recorder = TrainingRecorder(fullStateSteps: command.fullStateSteps)
        let cache = TrainedModelCache()
        let key = TrainedModelCache.Key(cell)
        cache.expect(key)
        cache.expect(key)
        let measured = CellRunner.run(cell, data: data, cache: cache, observer: recorder)
        if case .invalid(let reason) = measured.status {
            throw CommandFailure.input("\(command.target.spec): error: cell '\(cell.key)' is invalid: \(reason); nothing to replay")
        }
        let trained = try cache.model(for: key) { preconditionFailure("the cell was trained above") }
        if case .diverged = measured.status {
            Console.err("bnlab: warning: cell '\(cell.key)' \(measured.status.detail): written up to its last finished step")
        }

        let metadata = ["spec": spec.name, "cell": cell.key]
        try write(recorder.initialState!.withMetadata(metadata), to: "\(out)/initial.safetensors")
        try write(trained.model.stateDict(metadata: metadata), to: "\(out)/final.safetensors")
        var steps = recorder.stepsFile(metadata: metadata)
        let recalibration = recalibrationOrder(cell, data: data)
        steps.tensors["recalibration_indices"] = SafeTensor(recalibration.map { Int32($0) }, shape: [recalibration.count])
        try write(steps, to: "\(out)/steps.safetensors")
        try write(recorder.trajectoryFile(metadata: metadata), to: "\(out)/trajectory.safetensors")
        let rows = [["status", measured.status.name], ["status_detail", measured.detail]]
            + Metric.all.map { [$0.name, measured[$0].map { String($0) } ?? ""] }
        try AtomicFile.write(CSV.table(header: ["column", "value"], rows: rows), to: "\(out)/measurements.csv")
        Console.out("\(out): \(spec.name) cell '\(cell.key)': \(recorder.steps) steps, the whole state after the first "
                    + "\(min(recorder.steps, command.fullStateSteps)); test accuracy "
                    + "train mode \(text(measured[.testAccTrainMode])), eval mode \(text(measured[.testAccEvalMode]))")
        return 0
    }

    /// The samples CellRunner's recalibration pass draws, in its order (the same draw from the same stream).
    private static func recalibrationOrder(_ cell: Cell, data: PreparedData) -> [Int] {
        let split = cell.evaluation.recalibrateOnTest ? data.test : data.train
        let samples = min(cell.evaluation.recalibrateSamples ?? split.count, split.count)
        var rng = RandomGenerator(seed: cell.seed).derived("recalibrate")
        return Array(rng.permutation(split.count).prefix(samples))
    }

    private static func write(_ file: SafeTensorsFile, to path: String) throws {
        do { try file.write(to: path) } catch {
            throw CommandFailure.input("\(path): error: cannot write: \(error.localizedDescription)")
        }
    }

    private static func text(_ value: Double?) -> String { value.map { CSV.number($0, decimals: 2) } ?? "not measured" }
}

private extension SafeTensorsFile {
    func withMetadata(_ metadata: [String: String]) -> SafeTensorsFile {
        SafeTensorsFile(tensors: tensors, metadata: metadata)
    }
}
