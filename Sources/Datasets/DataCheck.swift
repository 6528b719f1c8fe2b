import SpecFormat
/// Checks a spec's data before a run writes anything, so that bad data ends the
/// run with one located error and no output:
/// - every file dataset of the grid loads (missing files, bad headers, truncated
///   records, ragged or non-numeric CSV rows, bad labels or classes: the loaders' errors,
///   which name the file and, for CSV, the line and column);
/// - it holds at least `train_split + test_split` samples for every cell (error at the
///   spec's `train_split`, naming the dataset file).
/// Loaded files stay in `data`'s cache, for the sweep that follows.
public enum DataCheck {
    /// Checks the cells of `spec` (its `--quick` grid with `quick`); returns the warnings of its
    /// datasets (``DataPreparation/warnings(of:)``), each dataset's once, in grid order.
    /// - Throws: ``DatasetError`` (a file that does not load) or ``SpecError`` (splits too large).
    @discardableResult
    public static func check(_ spec: Spec, quick: Bool, data preparation: DataPreparation = DataPreparation()) throws
        -> [DatasetWarning] {
        struct Need: Hashable { var source: DatasetSource; var train: Int; var test: Int }
        var checked = Set<Need>()
        var warned = Set<DatasetSource>()
        var warnings: [DatasetWarning] = []
        for cell in spec.cells(quick: quick) where !cell.dataset.files.isEmpty {
            let need = Need(source: cell.dataset, train: cell.trainSplit, test: cell.testSplit)
            guard checked.insert(need).inserted else { continue }
            let data = try preparation.load(cell.dataset)
            if warned.insert(cell.dataset).inserted { warnings += preparation.warnings(of: cell.dataset) }
            if need.train + need.test > data.count {
                let files = cell.dataset.files.joined(separator: ", ")
                throw SpecError(file: spec.path,
                                location: spec.location(of: "train_split", "test_split", "dataset", quick: quick) ?? .fileStart,
                                message: "train_split \(need.train) + test_split \(need.test) = \(need.train + need.test)"
                                    + " samples, but \(files) has \(data.count)")
            }
        }
        return warnings
    }
}
