import TensorCore

/// Copies chosen samples of a dataset into a reusable batch tensor `(B, C, H, W)`
/// and label buffer (no allocation once the largest batch has been seen).
public final class BatchAssembler {
    public let input = Tensor()
    public private(set) var labels: [Int32] = []

    public init() {}

    public func assemble(_ data: ImageDataset, indices: ArraySlice<Int>) {
        let size = data.sampleSize
        input.resize(to: Shape(indices.count, data.channels, data.height, data.width))
        labels.removeAll(keepingCapacity: true)
        data.images.withUnsafeBufferPointer { images in
            var dst = input.data
            for i in indices {
                dst.update(from: images.baseAddress! + i * size, count: size)
                dst += size
                labels.append(data.labels[i])
            }
        }
    }

    public func assemble(_ data: ImageDataset, indices: [Int]) { assemble(data, indices: indices[...]) }

    /// The dataset in its order, in batches of `batchSize` (the last may be smaller):
    /// calls `body(input, labels, sampleRange)` with this assembler's reused buffers.
    public func forEachBatch(_ data: ImageDataset, batchSize: Int,
                             _ body: (Tensor, [Int32], Range<Int>) throws -> Void) rethrows {
        precondition(batchSize >= 1, "batch size must be >= 1")
        let indices = Array(0..<data.count)
        var start = 0
        while start < data.count {
            let end = min(start + batchSize, data.count)
            assemble(data, indices: indices[start..<end])
            try body(input, labels, start..<end)
            start = end
        }
    }
}
