import SpecFormat
/// Loads CIFAR-10 binary batches (Krizhevsky, "Learning Multiple Layers of Features from
/// Tiny Images", 2009; the `cifar-10-batches-bin` files), concatenated in the order given.
///
/// Each record is 3073 bytes: the label byte (0...9), then 3072 pixel bytes, channel-major:
/// 1024 red, 1024 green, 1024 blue values, each a 32x32 row-major plane. That is exactly
/// one NCHW image of shape `(3, 32, 32)`. Pixels: `x = Float(byte) * scale`; `classCount = 10`;
/// the name is `"cifar10"`. Files may be gzipped.
///
/// Errors (``DatasetError`` naming the file): a file whose size is not a multiple of 3073
/// bytes (a truncated batch), a label above 9, and no records at all.
public func loadCIFAR10(paths: [String], scale: Float = 1) throws -> ImageDataset {
    let recordSize = 1 + CIFAR10.sampleSize
    var images: [Float] = [], labels: [Int32] = []
    for path in paths {
        let bytes = try Gzip.readMaybeGzipped(path: path)
        guard bytes.count % recordSize == 0 else {
            throw DatasetError(path: path, message: "file has \(bytes.count) bytes, not a multiple of the "
                + "\(recordSize)-byte record (1 label + 3072 pixels): the last record is truncated")
        }
        images.reserveCapacity(images.count + bytes.count / recordSize * CIFAR10.sampleSize)
        for record in 0..<(bytes.count / recordSize) {
            let start = record * recordSize
            guard bytes[start] < CIFAR10.classCount else {
                throw DatasetError(path: path, message: "record \(record) (byte \(start)) has label "
                    + "\(bytes[start]), not in 0...9")
            }
            labels.append(Int32(bytes[start]))
            images.append(contentsOf: bytes[(start + 1)..<(start + recordSize)].lazy.map { Float($0) * scale })
        }
    }
    guard !labels.isEmpty else {
        throw DatasetError(path: paths.isEmpty ? "cifar10" : paths.joined(separator: ", "),
                           message: "no CIFAR-10 records")
    }
    return try ImageDataset(name: "cifar10", channels: 3, height: 32, width: 32,
                            images: images, labels: labels, classCount: CIFAR10.classCount)
}

/// The fixed geometry of CIFAR-10.
enum CIFAR10 {
    static let classCount = 10
    /// `3 * 32 * 32` pixel bytes per record.
    static let sampleSize = 3 * 32 * 32
}
