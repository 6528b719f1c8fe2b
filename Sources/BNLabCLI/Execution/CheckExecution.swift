import Foundation
import Charts
import Experiment
import SpecFormat

/// `bnlab check`: validates specs and their data as `bnlab run` does before it starts (so it
/// refuses every bad input that run refuses, with the same message and status 2, and prints
/// nothing else then), and prints each expanded grid with its size and a rough run-time estimate.
enum CheckExecution {
    static func execute(_ command: CheckCommand) throws -> Int32 {
        let specs = try SpecFiles.load(command.specs)
        for spec in specs { try SpecFiles.checkData(spec, quick: command.quick) }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        for spec in specs {
            let cells = spec.cells(quick: command.quick)
            let seconds = RunTimeEstimate.seconds(cells)
            let jobs = max(1, cores / spec.threads)
            let axes = spec.sweptKeys.map { key in "\(key) x\(Set(cells.map { $0.canonicalValue(of: key) ?? "" }).count)" }
            Console.out("\(spec.path): ok: \(cells.count) runs (\((axes + ["seeds x\(Set(cells.map(\.seed)).count)"]).joined(separator: ", ")))")
            for (i, cell) in cells.enumerated() { Console.out(String(format: "%5d  ", i) + cell.cellKey()) }
            Console.out("estimated run time: \(formatDuration(seconds / Double(jobs))) with \(jobs) job(s) (rough: from a fixed cost model of this project's kernels on a 2-core machine, not a measurement)")
        }
        return 0
    }

    static func formatDuration(_ s: Double) -> String {
        if s < 60 { return String(format: "%.0fs", s) }
        if s < 3600 { return String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60) }
        return String(format: "%dh%02dm", Int(s) / 3600, (Int(s) % 3600) / 60)
    }
}

/// A rough cost model of one cell: training FLOPs (forward + backward = 3x forward)
/// at an assumed 8 GFLOP/s, plus a fixed overhead per optimizer step, plus the
/// evaluation passes (about 9 forward passes over the splits), the averaged model's and `epoch_eval`'s.
/// A fine-tuning phase costs a forward per sample (backward through the classifier only) on top of its
/// first phase, which the cells that fine-tune it differently share.
enum RunTimeEstimate {
    static func forwardFLOPs(_ c: ExperimentConfig) -> Double {
        let (channels, size): (Int, Int)
        switch c.dataset {
        case .shapes(let s, _): (channels, size) = (1, s)
        case .cifar10: (channels, size) = (3, 32)
        case .idx: (channels, size) = (1, 28)
        case .csv(let s): (channels, size) = (s.shape?.channels ?? 1, s.shape?.height ?? 28)
        }
        var flops = 0.0
        switch c.model {
        case .cnn(let widths, let kernel):
            var inC = channels, hw = size
            for w in widths {
                flops += 2 * Double(inC * kernel * kernel * w * hw * hw)
                inC = w; hw /= 2
            }
            flops += 2 * Double(inC * hw * hw * 10)
        case .mlp(let widths):
            var inF = channels * size * size
            for w in widths { flops += 2 * Double(inF * w); inF = w }
            flops += 2 * Double(inF * 10)
        case let .resnet(blocks, widths, stem):
            // stem 3x3; per block two 3x3 convs (the first strided), a 1x1 projection where the shape changes
            var inC = channels, hw = size
            flops += 2 * Double(inC * 9 * stem * hw * hw)
            inC = stem
            for (stage, (count, w)) in zip(blocks, widths).enumerated() {
                for index in 0..<count {
                    let stride = stage > 0 && index == 0 ? 2 : 1
                    let out = (hw - 1) / stride + 1
                    flops += 2 * Double(inC * 9 * w * out * out) + 2 * Double(w * 9 * w * out * out)
                    if stride != 1 || inC != w { flops += 2 * Double(inC * w * out * out) }
                    inC = w; hw = out
                }
            }
            flops += 2 * Double(inC * 10)
        }
        return flops
    }

    /// Settings that only change how a trained model is evaluated: cells that differ
    /// only in these share one training.
    /// The key table's evaluation section (``TrainedModelCache`` shares trainings between them too).
    static let evaluationKeys = Set(SpecKeyTable.settings.filter { $0.section == .evaluation }.map(\.name))
    /// The settings of the fine-tuning phase, which its first phase does not depend on.
    static let fineTuningKeys: Set<String> = ["finetune_epochs", "finetune_shift", "freeze"]

    static func seconds(_ cells: [ExperimentConfig]) -> Double {
        var trainings: Set<String> = [], fineTunings: Set<String> = []
        var total = 0.0
        for c in cells {
            let f = forwardFLOPs(c)
            let lines = c.canonicalDescription.split(separator: "\n")
                .filter { !evaluationKeys.contains(String($0.prefix { $0 != " " })) }
            let training = lines.filter { !fineTuningKeys.contains(String($0.prefix { $0 != " " })) }
                .joined(separator: "\n")
            if c.finetuneEpochs > 0 && fineTunings.insert(lines.joined(separator: "\n")).inserted {
                total += f * Double(c.trainSplit * c.finetuneEpochs) / 8e9
            }
            if trainings.insert(training).inserted {
                // the epochs the cell trains: budget_factor, steps and min_steps as Trainer counts them
                let batches = c.dropLast ? c.trainSplit / c.batchSize : (c.trainSplit + c.batchSize - 1) / c.batchSize
                let epochs = Cell.trainingPlan(c).epochCount(batchesPerEpoch: batches)
                let trainSamples = Double(c.trainSplit * epochs)
                total += 3 * f * trainSamples / 8e9 + trainSamples / Double(c.batchSize) * 40e-6
                if c.epochEval {  // per epoch: the test split, and the recalibration's samples (PreciseBN)
                    let calibration = c.recalibrateData == .test ? c.testSplit : c.trainSplit
                    let samples: Int
                    switch c.recalibrateSamples {
                    case .all: samples = calibration
                    case .count(let n): samples = min(n, calibration)
                    }
                    total += f * Double(epochs * (c.testSplit + samples)) / 8e9
                }
            }
            total += f * Double(4 * c.trainSplit + 5 * c.testSplit) / 8e9
            if c.weightAverage != .off {  // the averaged model's test pass, after update_bn's pass when recalibrated
                total += f * Double(c.testSplit + (c.weightAverageBuffers == .recalibrated ? c.trainSplit : 0)) / 8e9
            }
        }
        return total
    }
}
