/// The train and test splits of one cell, ready to use (normalized, jittered).
public struct PreparedData: Sendable {
    public var train: ImageDataset
    public var test: ImageDataset
    /// Fraction of the test split that also appears in the training split.
    public var testOverlap: Double
    public init(train: ImageDataset, test: ImageDataset, testOverlap: Double = 0) {
        self.train = train; self.test = test; self.testOverlap = testOverlap
    }
}
