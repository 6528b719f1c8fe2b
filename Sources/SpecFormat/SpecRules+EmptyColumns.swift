/// Warnings about measured columns that a cell can never fill, found from its settings alone
/// (Sources/Experiment/CellRunner.swift runs the passes named here).
///
/// BatchNorm1d, the norm of an mlp with `norm batch` or `batchrenorm`, sees one value per channel
/// per sample; a batch (or a ghost batch) of one sample has one value per channel, which the layer
/// refuses, as PyTorch does. A pass that meets such a batch leaves its column empty (`run` notes
/// why in `status_detail`), or, for training and, with `track_running_stats off`, the eval-mode
/// passes, fails the whole cell (status invalid). A cnn's BatchNorm2d sees the H * W >= 4 values
/// of each sample (every block keeps an image of at least 2 x 2), and GroupNorm and LayerNorm
/// normalize each sample alone, so neither meets the refusal.
///
/// Also warned: a `recalibrate_batch_size` that the file sets above the recalibration samples, which
/// then recalibrate in one batch of all of them rather than in batches of the size the tables show.
extension SpecRules {
    /// One pass over `count` samples in batches of `batchSize` (each normalized in ghost batches of
    /// `ghost` when given), dropping the last, smaller batch with `dropLast`.
    struct Pass {
        /// How the message names it: `the batch-statistics pass over the 10 test samples`.
        let name: String
        let count: Int
        let batchSize: Int
        var ghost: Int? = nil
        var dropLast = false

        /// Why the pass meets a batch of one sample, and the key that makes it so (`batch` for the
        /// batch size or the count, `ghost` for the ghost batch size); nil when it does not.
        var singleSample: (reason: String, cause: Cause)? {
            guard count > 0 else { return nil }
            if batchSize == 1 { return ("every batch of \(name) holds one sample", .batch) }
            if count == 1 { return ("\(name) is one batch of one sample", .batch) }
            let last = count % batchSize
            if last == 1 && count > batchSize && !dropLast {
                return ("the last batch of \(name) holds one sample (\(count) = \(count / batchSize) x \(batchSize) + 1)",
                        .batch)
            }
            guard let ghost else { return nil }
            var sizes = [min(batchSize, count)]
            if last > 0 && count > batchSize && !dropLast { sizes.append(last) }
            for size in sizes where ghost < size && size % ghost == 1 {
                return ("\(name) splits its batches of \(size) into ghost batches of \(ghost), the last of one sample",
                        .ghost)
            }
            return nil
        }
    }

    /// What makes a pass meet a batch of one sample.
    enum Cause { case batch, ghost }

    static let batchNorm1dRefusal = ", and BatchNorm1d refuses a batch with one value per channel (as PyTorch does)"

    /// The warnings of every cell, once per location and message (recalibration batches above their
    /// samples: once per location, listing the sample counts).
    static func emptyColumnWarnings(_ cells: [ResolvedCell]) -> [SpecProblem] {
        var warnings: [SpecProblem] = []
        var recalibrationCounts: [SourceLocation: (batchSize: Int, counts: Set<Int>)] = [:]
        func add(_ problem: SpecProblem) {
            if !warnings.contains(where: { $0.location == problem.location && $0.message == problem.message }) {
                warnings.append(problem)
            }
        }
        for cell in cells where cell.config.norm.keepsRunningMeanAndVariance {
            let c = cell.config
            let split = c.recalibrateData == .test ? c.testSplit : c.trainSplit
            let samples: Int
            switch c.recalibrateSamples {
            case .all: samples = split
            case .count(let n): samples = min(n, split)
            }
            if case .mlp = c.model {
                let mlp = mlpWarnings(cell, recalibrationSamples: samples)
                mlp.problems.forEach(add)
                if !mlp.recalibrationMeasured { continue }
            }
            if cell.locations["recalibrate_batch_size"] != nil && c.recalibrateBatchSize > samples {
                let location = cell.location("recalibrate_batch_size")
                recalibrationCounts[location, default: (c.recalibrateBatchSize, [])].counts.insert(samples)
            }
        }
        for (location, entry) in recalibrationCounts {
            let counts = entry.counts.sorted()
            let message: String
            if counts.count == 1 {
                message = "recalibrate_batch_size \(entry.batchSize) exceeds the \(counts[0]) recalibration samples: the"
                    + " recalibration is one batch of \(counts[0]) samples, not batches of \(entry.batchSize)"
            } else {
                let list = counts.dropLast().map(String.init).joined(separator: ", ") + " or \(counts.last!)"
                message = "recalibrate_batch_size \(entry.batchSize) exceeds the \(list) recalibration samples of its"
                    + " cells: each recalibrates in one batch of all its samples, not in batches of \(entry.batchSize)"
            }
            warnings.append(SpecProblem(location, message))
        }
        return warnings
    }

    /// The passes of an mlp cell that meet a batch of one sample, each as a warning at the setting
    /// that causes it: training and (track_running_stats off) eval mode fail the cell, so the first
    /// of them is the only warning; the others each leave their columns empty. Also whether
    /// test_acc_recalibrated is measured.
    private static func mlpWarnings(_ cell: ResolvedCell,
                                    recalibrationSamples: Int) -> (problems: [SpecProblem], recalibrationMeasured: Bool) {
        let c = cell.config
        let ghost = c.norm == .batch ? c.ghostBatchSize : nil
        let tracks = c.norm == .batch ? c.trackRunningStats : true
        func the(_ count: Int, _ split: String) -> String { "the \(count) \(split) sample\(count == 1 ? "" : "s")" }
        let tests = the(c.testSplit, "test"), training = the(c.trainSplit, "training")
        let every = "every measured column empty (status invalid)"
        var checks: [(pass: Pass, columns: String, keys: [String])] = [
            (Pass(name: "the training pass over \(training)", count: c.trainSplit,
                  batchSize: c.batchSize, ghost: ghost, dropLast: c.dropLast),
             every, ["batch_size", "train_split", "drop_last"]),
        ]
        if !tracks {
            let name = "the eval-mode pass over \(tests) (track_running_stats off: batch statistics)"
            checks.append((Pass(name: name, count: c.testSplit, batchSize: c.evalBatchSize, ghost: ghost),
                           every, ["eval_batch_size", "test_split"]))
            checks.append((Pass(name: "the eval-mode pass over \(training) (track_running_stats off: batch statistics)",
                                count: c.trainSplit, batchSize: c.evalBatchSize, ghost: ghost),
                           every, ["eval_batch_size", "train_split"]))
        }
        checks.append((Pass(name: "the train-mode pass over \(tests)", count: c.testSplit, batchSize: c.batchSize,
                            ghost: ghost),
                       "test_acc_train_mode empty", ["batch_size", "test_split"]))
        let forgot = c.forgotEval ? ", test_acc_forgot_eval, test_acc_eval_after_forgot_eval, train_mode_disagreement,"
            + " eval_mode_disagreement" : ""
        checks.append((Pass(name: "the batch-statistics pass over \(tests)", count: c.testSplit,
                            batchSize: c.evalBatchSize, ghost: ghost),
                       "test_acc_batch_stats\(forgot)\(c.adaptPrior != nil && c.adaptsBatchNorm ? ", adapted_accuracy" : "") empty",
                       ["eval_batch_size", "test_split"]))
        let samples = recalibrationSamples == 1 ? "1 sample" : "\(recalibrationSamples) samples"
        checks.append((Pass(name: "the recalibration pass over \(samples)", count: recalibrationSamples,
                            batchSize: c.recalibrateBatchSize),  // Recalibration switches ghost batches off
                       "test_acc_recalibrated empty",
                       ["recalibrate_batch_size", "recalibrate_samples", c.recalibrateData == .test ? "test_split" : "train_split"]))
        var problems: [SpecProblem] = []
        var recalibrationMeasured = true
        for check in checks {
            guard let (reason, cause) = check.pass.singleSample else { continue }
            let keys = (cause == .ghost ? ["ghost_batch_size"] : []) + check.keys + ["model"]
            let key = cell.blamedKey(keys)
            let problem = SpecProblem(cell.location(keys), "\(key) \(c.canonicalValue(of: key) ?? "") with model mlp"
                                      + " leaves \(check.columns): \(reason)\(batchNorm1dRefusal)")
            if check.columns == every { return ([problem], false) }
            problems.append(problem)
            if check.columns == "test_acc_recalibrated empty" { recalibrationMeasured = false }
        }
        return (problems, recalibrationMeasured)
    }
}

extension ResolvedCell {
    /// The key that ``location(_:)`` blames: the first of `keys` the cell's variant overrides, else
    /// the first the file sets, else the first.
    func blamedKey(_ keys: [String]) -> String {
        keys.first { variantKeys.contains($0) && locations[$0] != nil } ?? keys.first { locations[$0] != nil } ?? keys[0]
    }
}
