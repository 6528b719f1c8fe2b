import BNLabCLI
import Experiment
import Foundation
import NN
import XCTest

/// `bnlab export-training` end to end on the tiny spec: it trains the cell exactly as `bnlab run`
/// does, and writes what a replay needs.
final class ExportTrainingTests: XCTestCase {
    static let key = "batch_size=4 momentum=0.1 seed=1"

    func testTheExportedCellMeasuresWhatRunMeasuresAndItsFilesFit() throws {
        let directory = try scratchDirectory(for: self)
        let spec = directory.appendingPathComponent(try TinySweep.write(in: directory)).path
        let out = directory.appendingPathComponent("export").path
        XCTAssertEqual(BNLab.main(["export-training", spec, "--cell", Self.key, "--out", out, "--full-state-steps", "5"]), 0)
        XCTAssertEqual(BNLab.main(["run", spec, "--out", directory.appendingPathComponent("run").path, "--quiet"]), 0)

        // bnlab run's row of the cell against export-training's measurements, formatted as the table formats them.
        let table = try String(contentsOfFile: directory.appendingPathComponent("run/tiny.csv").path, encoding: .utf8)
        let lines = table.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = lines[0]
        // a measure with a column only where measured has none in this spec's table: empty
        func column(_ row: [String], _ name: String) -> String { header.firstIndex(of: name).map { row[$0] } ?? "" }
        let row = try XCTUnwrap(lines.dropFirst().first {
            column($0, "batch_size") == "4" && column($0, "momentum") == "0.1" && column($0, "seed") == "1"
        })
        let measurements = try String(contentsOfFile: out + "/measurements.csv", encoding: .utf8)
        var exported: [String: String] = [:]
        for line in measurements.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            exported[fields[0]] = fields[1]
        }
        XCTAssertEqual(exported["status"], "ok")
        for metric in Metric.all {
            let formatted = exported[metric.name].flatMap(Double.init).map { CSV.number($0, decimals: metric.decimals) } ?? ""
            XCTAssertEqual(formatted, column(row, metric.name), metric.name)
        }

        // 100 training images in batches of 4, 2 epochs: 50 steps; state keys of a cnn with one conv block.
        let steps = try SafeTensorsFile(contentsOf: out + "/steps.safetensors")
        XCTAssertEqual(steps.metadata, ["spec": "tiny", "cell": Self.key])
        XCTAssertEqual(steps.tensors["loss"]?.shape, [50])
        XCTAssertEqual(steps.tensors["indices"]?.shape, [200])
        XCTAssertEqual(steps.tensors["recalibration_indices"]?.integers.map { Set($0) }, Set(0..<100), "recalibrate_samples all")
        let initial = try SafeTensorsFile(contentsOf: out + "/initial.safetensors")
        let final = try SafeTensorsFile(contentsOf: out + "/final.safetensors")
        let keys = ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
                    "5.weight", "5.bias"]
        XCTAssertEqual(Set(initial.tensors.keys), Set(keys))
        XCTAssertEqual(Set(final.tensors.keys), Set(keys))
        XCTAssertEqual(initial.tensors["1.num_batches_tracked"]?.integers, [0])
        XCTAssertEqual(final.tensors["1.num_batches_tracked"]?.integers, [50])
        let trajectory = try SafeTensorsFile(contentsOf: out + "/trajectory.safetensors")
        XCTAssertEqual(trajectory.tensors["0.weight"]?.shape, [5, 4, 1, 3, 3])
        XCTAssertEqual(trajectory.tensors["1.num_batches_tracked"]?.integers, [1, 2, 3, 4, 5])
        for name in ["cells.csv", "metric_columns.txt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + name), name)
        }
        let cells = try String(contentsOfFile: out + "/cells.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(cells.count, 2, "the header and the one cell")
        XCTAssertTrue(cells[1].hasPrefix("9,\(Self.key),data-"), String(cells[1]))
    }

    /// An MLP with BatchNorm at batch 1 trains on one value per feature, which PyTorch refuses: nothing to replay.
    func testAnInvalidCellIsRefusedWithPyTorchsReason() throws {
        let directory = try scratchDirectory(for: self)
        try """
            dataset shapes size=12 noise=0.25
            train_split 20
            test_split 10
            model mlp widths=4
            batch_size 1

            """.write(to: directory.appendingPathComponent("m.spec"), atomically: true, encoding: .utf8)
        let outcome = try BNLabChild.run(["export-training", "m.spec", "--cell", "seed=0", "--out", "x"], in: directory)
        XCTAssertEqual(outcome.status, 2)
        XCTAssertEqual(outcome.standardError, "m.spec:5:12: warning: batch_size 1 with model mlp leaves every measured"
                       + " column empty (status invalid): every batch of the training pass over the 20 training samples"
                       + " holds one sample, and BatchNorm1d refuses a batch with one value per channel (as PyTorch does)\n"
                       + "m.spec: error: cell 'seed=0' is invalid: BatchNorm(4, momentum=0.1): "
                       + "Expected more than 1 value per channel when training, got input size (1, 4); nothing to replay\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("x/final.safetensors").path))
    }

    /// The replay replays nn.Dropout's masks only and trains every layer: DropPath, the classical convention,
    /// dropout in eval mode and a fine-tuning phase are refused by name, before anything is trained or written.
    func testCellsTheReplayCannotReplayAreRefused() throws {
        let directory = try scratchDirectory(for: self)
        try """
            dataset shapes size=12 noise=0.25
            train_split 20
            test_split 10
            model resnet blocks=1,1 channels=4,4
            batch_size 4
            dropout 0.2
            variant plain
            variant deep drop_path=0.1
            variant classical dropout_convention=classical dropout_in_eval=on
            variant tuned finetune_epochs=1
            sweep variant plain deep classical tuned

            """.write(to: directory.appendingPathComponent("d.spec"), atomically: true, encoding: .utf8)
        let refusals = [
            ("deep", "drop_path 0.1 (the recorder keeps no DropPath masks)"),
            ("classical", "dropout_convention classical (PyTorch's nn.Dropout is inverted) and dropout_in_eval on (the"
                + " replay scores in eval mode with dropout off)"),
            ("tuned", "finetune_epochs 1 (the recorder sees the first phase only, and the replay trains every layer)"),
        ]
        for (variant, reason) in refusals {
            let cell = "variant=\(variant) seed=0"
            let outcome = try BNLabChild.run(["export-training", "d.spec", "--cell", cell, "--out", "x"], in: directory)
            XCTAssertEqual(outcome.status, 2, variant)
            XCTAssertEqual(outcome.standardError, "d.spec: error: cell '\(cell)' uses \(reason); the PyTorch replay cannot"
                           + " replay it\n")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("x").path), "nothing written")
    }

    func testABadKeyListsTheCells() throws {
        let directory = try scratchDirectory(for: self)
        let spec = try TinySweep.write(in: directory)
        let outcome = try BNLabChild.run(["export-training", spec, "--cell", "batch_size=4 momentum=0.1 seed=7",
                                          "--out", "x"], in: directory)
        XCTAssertEqual(outcome.status, 2)
        XCTAssertEqual(outcome.standardError, """
            tiny.spec: error: no cell 'batch_size=4 momentum=0.1 seed=7' in the grid; did you mean 'batch_size=4 momentum=0.1 seed=0'?
            the 12 cells are:
              batch_size=1 momentum=0.1 seed=0
              batch_size=1 momentum=0.1 seed=1
              batch_size=1 momentum=0.01 seed=0
              batch_size=1 momentum=0.01 seed=1
              batch_size=2 momentum=0.1 seed=0
              batch_size=2 momentum=0.1 seed=1
              batch_size=2 momentum=0.01 seed=0
              batch_size=2 momentum=0.01 seed=1
              batch_size=4 momentum=0.1 seed=0
              batch_size=4 momentum=0.1 seed=1
              batch_size=4 momentum=0.01 seed=0
              batch_size=4 momentum=0.01 seed=1

            """)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("x").path), "nothing written")
    }
}
