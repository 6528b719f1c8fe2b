import Foundation
import Charts
import Datasets
import Experiment
import Reports
import SpecFormat

/// `bnlab export-data SPEC --out DIR [--quick]`: writes each cell's prepared train and test
/// splits (after jitter, normalization and overlap) and a manifest, so the PyTorch
/// reference (Benchmarks/pytorch_reference.py crosscheck) trains on exactly the same data.
/// With `--quick`, the grid and splits of `bnlab run --quick`.
///
/// Layout: `DIR/cells.csv`, one row per cell in grid order: index, key, data folder, the
/// setting columns of the result table, ``extraSettings``, `lr_used` (the Float the optimizer
/// gets, as its shortest round-trip text), `measurement_batch_size`
/// (``CellRunner/measurementBatchSize``, the smallest batch of the passes whose batch size is not
/// part of the measurement) and seed; `DIR/metric_columns.txt`, the result table's measured
/// columns in order (``CellRecord/metricColumns``, so the reference writes the same table);
/// `DIR/data-<hash>/{train,test}-{x.f32,y.i32,shape.txt}`:
/// little-endian float32 images in NCHW order, int32 labels, `count channels height width classes`.
/// `bnlab export-training` writes the same files for its one cell.
enum ExportDataExecution {
    /// Settings the reference needs that are not result-table columns, as the spec writes them.
    static let extraSettings = ["model", "optimizer", "drop_last", "eps", "forgot_eval", "metric_bug", "lr_schedule",
                                "activation"]

    static func execute(_ command: ExportDataCommand) throws -> Int32 {
        guard let spec = try SpecFiles.load([command.target.spec]).first else { return 2 }
        let cells = spec.cells(quick: command.target.quick)
        let preparation = DataPreparation()
        var written: Set<String> = []
        for cell in cells {
            let folder = dataFolder(cell)
            if !written.contains(folder) {
                try writeSplits(prepare(cell, with: preparation), folder: folder, in: command.target.outputDirectory)
                written.insert(folder)
            }
        }
        try writeManifest(cells: Array(cells.enumerated()), in: command.target.outputDirectory)
        Console.out("\(command.target.outputDirectory)/cells.csv: \(cells.count) cells, \(written.count) data folder(s)")
        return 0
    }

    /// The folder of a cell's data, named by its data settings: cells that train on the same data share it.
    static func dataFolder(_ cell: ExperimentConfig) -> String {
        "data-" + Journal.checksum(DataPreparation.dataKey(cell))
    }

    /// The cell's prepared data; a dataset problem becomes a one-line error with status 2.
    static func prepare(_ cell: ExperimentConfig, with preparation: DataPreparation) throws -> PreparedData {
        do { return try preparation.prepare(cell) } catch let e as DatasetError { throw CommandFailure.input(e.description) }
    }

    /// `directory/folder/{train,test}-{x.f32,y.i32,shape.txt}`.
    static func writeSplits(_ data: PreparedData, folder: String, in directory: String) throws {
        for (split, set) in [("train", data.train), ("test", data.test)] {
            let base = "\(directory)/\(folder)/\(split)"
            try AtomicFile.write(set.images.withUnsafeBytes { Array($0) }, to: base + "-x.f32")
            try AtomicFile.write(set.labels.withUnsafeBytes { Array($0) }, to: base + "-y.i32")
            try AtomicFile.write("\(set.count) \(set.channels) \(set.height) \(set.width) \(set.classCount)\n", to: base + "-shape.txt")
        }
    }

    /// `directory/cells.csv` for `cells` (grid index, settings) and `directory/metric_columns.txt`.
    static func writeManifest(cells: [(offset: Int, element: ExperimentConfig)], in directory: String) throws {
        let rows = cells.map { index, cell in
            [String(index), cell.cellKey(), dataFolder(cell)] + cell.settingColumns.map { $0[1] }
                + extraSettings.map { cell.canonicalValue(of: $0) ?? "" }
                + [String(cell.effectiveLearningRate), String(CellRunner.measurementBatchSize), String(cell.seed)]
        }
        let header = ["index", "key", "data"] + (cells.first?.element.settingColumns.map { $0[0] } ?? [])
            + extraSettings + ["lr_used", "measurement_batch_size", "seed"]
        try AtomicFile.write(CSV.table(header: header, rows: rows), to: "\(directory)/cells.csv")
        try AtomicFile.write(CellRecord.metricColumns.joined(separator: ",") + "\n", to: "\(directory)/metric_columns.txt")
    }
}
