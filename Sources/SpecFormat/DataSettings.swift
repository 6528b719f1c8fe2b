// The typed values of the data settings of a spec (`dataset` ... `drop_last`).

/// Where the images come from (`dataset`).
public enum DatasetSource: Hashable, Sendable {
    /// The embedded synthetic 3-class images, `size` x `size` pixels, with
    /// Gaussian pixel noise of standard deviation `noise`.
    case shapes(size: Int, noise: Float)
    /// A CSV file of one image per row.
    case csv(CSVSource)
    /// An IDX image file and an IDX label file (the MNIST format).
    case idx(images: String, labels: String)
    /// CIFAR-10 binary batch files (`data_batch_1.bin` ...).
    case cifar10(batches: [String])
}

/// A CSV dataset: one image per row, one column the label.
public struct CSVSource: Hashable, Sendable {
    /// The file, resolved against the spec file's directory.
    public var path: String
    /// Which column holds the label.
    public var labelColumn: CSVLabelColumn
    /// How to arrange the remaining columns; nil: a flat vector (1 x 1 x columns).
    public var shape: ImageShape?
    /// Every pixel is multiplied by this on loading: x' = scale * x.
    public var scale: Float
    /// Whether the first row is a header.
    public var header: CSVHeaderChoice

    /// A CSV source; the defaults are those of the spec.
    public init(path: String, labelColumn: CSVLabelColumn = .first, shape: ImageShape? = nil,
                scale: Float = 1, header: CSVHeaderChoice = .auto) {
        self.path = path
        self.labelColumn = labelColumn
        self.shape = shape
        self.scale = scale
        self.header = header
    }
}

/// The label column of a CSV file.
public enum CSVLabelColumn: Hashable, Sendable {
    /// The first column.
    case first
    /// The last column.
    case last
    /// A 0-based column index.
    case index(Int)
}

/// Whether a CSV file starts with a header row.
public enum CSVHeaderChoice: String, CaseIterable, Hashable, Sendable {
    /// A header when the first row does not parse as numbers.
    case auto
    /// The first row is a header.
    case yes
    /// Every row is data.
    case no
}

/// Channels x height x width of one image.
public struct ImageShape: Hashable, Sendable {
    /// C: channels (1 for grey, 3 for RGB).
    public var channels: Int
    /// H: rows of pixels.
    public var height: Int
    /// W: columns of pixels.
    public var width: Int

    /// A shape of `channels` x `height` x `width`.
    public init(channels: Int, height: Int, width: Int) {
        self.channels = channels
        self.height = height
        self.width = width
    }
}

/// Per-image intensity jitter (`jitter`): x' = gain * x + offset.
public enum JitterSetting: Hashable, Sendable {
    /// Images unchanged.
    case none
    /// `gain` drawn log-uniformly from its range (0 < lower <= upper),
    /// `offset` uniformly from its range, once per image.
    case gainOffset(gain: ClosedRange<Float>, offset: ClosedRange<Float>)
}

/// Which splits the jitter applies to (`jitter_apply`).
public enum JitterApply: String, CaseIterable, Hashable, Sendable {
    /// Both splits; the training split only; the test split only (a distribution shift).
    case both, train, test
    /// Neither split: the same spec sweeps with and without jitter.
    case none
}

/// How inputs are standardized (`normalize`).
public enum InputNormalization: String, CaseIterable, Hashable, Sendable {
    /// x' = (x - mean_c) / std_c with the training split's per-channel statistics (tabular rows, a csv
    /// without shape: per feature, ``StandardizationUnit/feature``).
    case train
    /// Raw inputs.
    case none
}

/// How the test split is standardized (`test_normalize`).
public enum TestNormalization: Hashable, Sendable {
    /// With the training split's statistics, like the training inputs.
    case same
    /// Left raw.
    case none
    /// With the test split's own per-channel (tabular rows: per-feature) statistics.
    case own
    /// With the given statistics, in the units of the data after `scale`.
    case fixed(mean: Float, std: Float)
}

/// How the test images were stored before the model sees them (`test_storage`): the train/test mismatch
/// of a pipeline that keeps the training images as floats but the test images in a lossy format.
public enum TestStorage: String, CaseIterable, Hashable, Sendable {
    /// As the training images: no loss.
    case lossless
    /// Each test image saved as an 8-bit image after min-max scaling, as converting a float array to
    /// PNG/JPEG pixels does: `q = round(255 * (x - lo) / (hi - lo))`, `x' = lo + q * (hi - lo) / 255`,
    /// `lo`, `hi` = the image's minimum and maximum over all its channels (an image with `hi == lo` is kept).
    case uint8
    /// The same with 16 levels (`15` for `255`): a coarser quantization.
    case uint4
    /// Each test image stored at half resolution (the mean of every 2x2 block, per channel) and resized
    /// back by repeating each stored pixel over its 2x2 block; an odd last row or column is its own block.
    case halfResolution = "half-resolution"
}
