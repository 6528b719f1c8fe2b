/// `bnlab bench [--quick] [--threads LIST] [--batch-sizes LIST] [--models WHICH] [--repetitions N] [--denormals flush|keep] [--csv PATH]`.
public struct BenchCommand: ParsableCommand {
    /// Which models `bnlab bench` measures.
    public enum Models: String, CaseIterable, Equatable, Sendable {
        /// Every model below.
        case all
        /// The model of the main experiment.
        case flagship
        /// The small convolutional network on 28x28 images.
        case cnn28
        /// The multilayer perceptron.
        case mlp
        /// ResNet-8 on the main experiment's inputs.
        case resnet
    }

    /// The declaration of `bnlab bench`.
    public static let declaration = CommandDeclaration(
        name: "bench",
        abstract: "Measure training speed across batch sizes and thread counts.",
        discussion: "Each measurement is repeated and the median is reported, beside the "
            + "measured OpenBLAS sgemm peak.",
        options: [
            .flag("quick", help: "Shorter measurements: a smoke test of the benchmark."),
            .value("threads", .integerList(minimum: 1), default: .value("1,2"),
                   help: "Comma-separated thread counts to measure."),
            .value("batch-sizes", .integerList(minimum: 1), default: .value("1,2,8,32,128,512"),
                   help: "Comma-separated batch sizes to measure."),
            .value("models", .choice(Models.allCases.map(\.rawValue)), default: .value("all"),
                   help: "Which models to measure."),
            .value("repetitions", .integer(minimum: 1), default: .value("5"),
                   help: "Timed repetitions of each measurement."),
            .value("denormals", .choice(["flush", "keep"]), default: .value("flush"),
                   help: "flush: the steps run with flush-to-zero and denormals-are-zero, as bnlab always computes;"
                       + " keep: with the processor's default modes (PyTorch's default), to measure what flushing is worth."),
            .value("csv", .path, valueName: "PATH", default: .absent(meaning: "none"),
                   help: "Also write the measurements to this CSV file."),
        ])

    /// Whether to use the quick settings.
    public var quick: Bool
    /// Thread counts to measure, in command-line order.
    public var threads: [Int]
    /// Batch sizes to measure, in command-line order.
    public var batchSizes: [Int]
    /// Which models to measure.
    public var models: Models
    /// Timed repetitions of each measurement.
    public var repetitions: Int
    /// Where to write the CSV of the measurements; nil: no CSV.
    public var csvPath: String?
    /// Whether the timed steps keep denormals (the processor's default) instead of flushing them.
    public var keepDenormals: Bool

    /// Reads `bnlab bench`'s values.
    public init(_ parsed: ParsedArguments) {
        quick = parsed.flag("quick")
        threads = parsed.integers("threads")!  // defaulted by the declaration
        batchSizes = parsed.integers("batch-sizes")!  // defaulted by the declaration
        models = Models(rawValue: parsed.text("models")!)!  // a declared choice
        repetitions = parsed.integer("repetitions")!  // defaulted by the declaration
        csvPath = parsed.text("csv")
        keepDenormals = parsed.text("denormals") == "keep"  // a declared choice, defaulted
    }
}
