import Foundation
import Harness

/// `bnlab export-data SPEC --out DIR`: writes each cell's prepared train and test
/// splits (after jitter, normalization and overlap) and a manifest, so the PyTorch
/// reference (Benchmarks/pytorch_reference.py crosscheck) trains on exactly the same data.
///
/// Layout: `DIR/cells.csv` (one row per cell: index, key, data folder, and the
/// settings the reference needs) and `DIR/data-<hash>/{train,test}-{x.f32,y.i32,shape.txt}`:
/// little-endian float32 images in NCHW order and int32 labels.
enum ExportDataExecution {
    static func execute(_ command: ExportDataCommand) throws -> Int32 {
        guard let spec = try SpecFiles.load([command.spec]).first else { return 2 }
        var written: Set<String> = []
        var rows: [[String]] = []
        for (index, cell) in spec.cells().enumerated() {
            let folder = "data-" + Journal.checksum(DataPreparation.dataKey(cell))
            if !written.contains(folder) {
                let data: PreparedData
                do { data = try DataPreparation.prepare(cell) } catch let e as DatasetError { throw CommandFailure.input(e.description) }
                for (split, set) in [("train", data.train), ("test", data.test)] {
                    let base = "\(command.outputDirectory)/\(folder)/\(split)"
                    try AtomicFile.write(set.images.withUnsafeBytes { Array($0) }, to: base + "-x.f32")
                    try AtomicFile.write(set.labels.withUnsafeBytes { Array($0) }, to: base + "-y.i32")
                    try AtomicFile.write("\(set.count) \(set.channels) \(set.height) \(set.width) \(set.classCount)\n", to: base + "-shape.txt")
                }
                written.insert(folder)
            }
            rows.append([String(index), cell.cellKey(), folder] + cell.settingColumns.map { $0[1] }
                        + [cell.canonicalValue(of: "model") ?? "", cell.canonicalValue(of: "optimizer") ?? "",
                           CSV.number(Double(cell.effectiveLearningRate), decimals: 8), String(cell.seed)])
        }
        let header = ["index", "key", "data"] + (spec.cells().first?.settingColumns.map { $0[0] } ?? [])
            + ["model", "optimizer", "lr_used", "seed"]
        try AtomicFile.write(CSV.table(header: header, rows: rows), to: "\(command.outputDirectory)/cells.csv")
        Console.out("\(command.outputDirectory)/cells.csv: \(rows.count) cells, \(written.count) data folder(s)")
        return 0
    }
}
