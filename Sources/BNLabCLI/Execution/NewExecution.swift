import Foundation
import Experiment
import Reports
import SpecFormat

/// `bnlab new NAME`: writes a commented template spec that parses as it is.
enum NewExecution {
    static func execute(_ command: NewCommand) throws -> Int32 {
        guard !command.name.isEmpty, command.name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw CommandFailure.input("bnlab: error: spec name '\(command.name)' may hold only letters, digits, '-' and '_'")
        }
        let path = "\(command.directory)/\(command.name).spec"
        if FileManager.default.fileExists(atPath: path) && !command.force {
            throw CommandFailure.input("\(path): error: already exists (use --force to overwrite)")
        }
        try AtomicFile.write(template(name: command.name, path: path, inExperiments: command.directory == "Experiments"),
                             to: path)
        Console.out(path)
        return 0
    }

    /// The template of spec `name` written to `path`; `inExperiments`: it is in Experiments/, which
    /// `make experiments` runs.
    static func template(name: String, path: String, inExperiments: Bool) -> String {
        """
        # \(name): describe in one line what this experiment shows
        # Every key, its default, unit and convention: Experiments/README.md.
        # Run it with: bnlab run \(path)\(inExperiments ? "   (or: make experiments)" : "")

        # Data: the embedded 3-class shapes with a per-image gain and offset.
        dataset shapes size=16 noise=0.25
        jitter gain=0.2:5 offset=-2:2
        train_split 3000
        test_split 1000

        # Model: conv-BN-ReLU-pool blocks; norm batch | group | layer | batchrenorm | mabn | cbn | frn | evonorm_s0 | evonorm_b0 | none
        model cnn channels=16,32
        norm batch
        # PyTorch's convention: running = (1 - momentum) * running + momentum * batch
        momentum 0.1
        dropout 0

        # Training: lr_used = lr * sqrt(batch_size / base_batch_size)
        optimizer sgd lr=0.002 momentum=0.9
        lr_scaling sqrt
        base_batch_size 1
        epochs 3

        # Evaluation
        eval_batch_size 128
        recalibrate_samples all
        recalibrate_batch_size 32
        recalibrate_estimator population

        # The grid: the cartesian product of the sweeps (first line varies slowest), times the seeds.
        sweep batch_size 1 4 16 64
        seeds 0 1

        # bnlab run --quick: a smaller, faster version of the same grid.
        quick epochs=1 train_split=600 test_split=200

        """
    }
}
