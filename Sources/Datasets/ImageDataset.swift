import SpecFormat
/// A labelled image dataset held in memory.
///
/// Legend: `N = count` images, `C = channels`, `H = height`, `W = width`.
/// `images` is one flat NCHW row-major array: pixel `(n, c, y, x)` is at
/// `((n * C + c) * H + y) * W + x`, and image `n` occupies
/// `images[n * sampleSize ..< (n + 1) * sampleSize]`.
public struct ImageDataset: Sendable, Equatable {
    /// Where the data came from (file base name or generator name); used in messages and results.
    public var name: String
    /// `C`, `H`, `W` of every image.
    public var channels: Int, height: Int, width: Int
    /// `N * C * H * W` pixel values, NCHW row-major.
    public var images: [Float]
    /// `N` class labels, each in `0 ..< classCount`.
    public var labels: [Int32]
    /// Number of classes; labels lie in `0 ..< classCount`.
    public var classCount: Int

    /// Checks the invariants: positive `C`, `H`, `W`, `classCount` in `1...maxClassCount`,
    /// `images.count == labels.count * C * H * W`, every label in `0 ..< classCount`.
    /// Throws a ``DatasetError`` whose path is `name`.
    public init(name: String, channels: Int, height: Int, width: Int,
                images: [Float], labels: [Int32], classCount: Int) throws {
        func fail(_ message: String) -> DatasetError { DatasetError(path: name, message: message) }
        guard channels > 0, height > 0, width > 0 else {
            throw fail("image shape \(channels)x\(height)x\(width) must be positive in every dimension")
        }
        guard classCount > 0, classCount <= Self.maxClassCount else {
            throw fail("classCount must be in 1...\(Self.maxClassCount), got \(classCount)")
        }
        let sampleSize = channels * height * width
        guard images.count == labels.count * sampleSize else {
            throw fail("\(images.count) pixel values do not make \(labels.count) images of "
                + "\(channels)x\(height)x\(width) (need \(labels.count * sampleSize))")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
            throw fail("label \(labels[bad]) of image \(bad) is not in 0..<\(classCount)")
        }
        self.name = name
        self.channels = channels
        self.height = height
        self.width = width
        self.images = images
        self.labels = labels
        self.classCount = classCount
    }

    /// The most classes a dataset may have: a label is a class index, and the model's last
    /// layer gets one output per class, so a stray huge label would otherwise allocate
    /// without bound.
    public static let maxClassCount = 10_000

    /// `N`, the number of images.
    public var count: Int { labels.count }

    /// `C * H * W`, the number of values in one image.
    public var sampleSize: Int { channels * height * width }

    /// The images at `indices`, in that order (an index may repeat); same shape, name and classCount.
    public func subset(_ indices: [Int]) -> ImageDataset {
        let size = sampleSize
        var newImages = [Float](repeating: 0, count: indices.count * size)
        var newLabels = [Int32](repeating: 0, count: indices.count)
        images.withUnsafeBufferPointer { source in
            newImages.withUnsafeMutableBufferPointer { target in
                for (row, index) in indices.enumerated() {
                    precondition(index >= 0 && index < count,
                                 "subset index \(index) is outside 0..<\(count) of \(name)")
                    let from = source.baseAddress! + index * size
                    (target.baseAddress! + row * size).update(from: from, count: size)
                    newLabels[row] = labels[index]
                }
            }
        }
        var result = self
        result.images = newImages
        result.labels = newLabels
        return result
    }

    /// The base name of `path` with the listed trailing extensions removed in list order
    /// (outermost first)
    /// (`name(fromPath: "a/mnist_5k.csv.gz", extensions: ["gz", "csv"]) == "mnist_5k"`).
    package static func name(fromPath path: String, extensions: [String]) -> String {
        var name = String(path.split(separator: "/").last ?? Substring(path))
        for ext in extensions where name.hasSuffix("." + ext) && name.count > ext.count + 1 {
            name.removeLast(ext.count + 1)
        }
        return name
    }
}
