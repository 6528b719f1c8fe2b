// TEMPORARY stand-in with the agreed API; replaced by the data branch at merge.
public struct ImageDataset: Sendable {
    public var name: String
    public var channels: Int
    public var height: Int
    public var width: Int
    public var images: [Float]
    public var labels: [Int32]
    public var classCount: Int
    public var count: Int { labels.count }
    public var sampleSize: Int { channels * height * width }

    public init(name: String, channels: Int, height: Int, width: Int, images: [Float], labels: [Int32], classCount: Int) {
        self.name = name; self.channels = channels; self.height = height; self.width = width
        self.images = images; self.labels = labels; self.classCount = classCount
    }

    public func subset(_ indices: [Int]) -> ImageDataset {
        var imgs = [Float](); imgs.reserveCapacity(indices.count * sampleSize)
        for i in indices { imgs.append(contentsOf: images[(i * sampleSize)..<((i + 1) * sampleSize)]) }
        return ImageDataset(name: name, channels: channels, height: height, width: width, images: imgs,
                            labels: indices.map { labels[$0] }, classCount: classCount)
    }
}
