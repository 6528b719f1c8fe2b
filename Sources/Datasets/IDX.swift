import SpecFormat
/// Loads an image set in the IDX format of the MNIST family (LeCun et al., "MNIST database",
/// file format section): big-endian headers followed by unsigned bytes, optionally gzipped.
///
/// - images file: magic `0x00000803` (unsigned bytes, 3 dimensions), then `N`, `H`, `W`
///   as big-endian UInt32, then `N * H * W` pixel bytes; the file must be exactly that long.
/// - labels file: magic `0x00000801` (unsigned bytes, 1 dimension), then `N`, then `N` bytes.
/// - Pixels: `x = Float(byte) * scale` (e.g. `scale = 1 / 255`); images are `(1, H, W)`.
/// - `classCount = max label + 1`; the name is the images file's base name without `.gz`.
///
/// Errors (``DatasetError`` naming the file): a file shorter than its header, a wrong magic
/// number, header dimensions that disagree with the file size, and image and label files
/// with different counts.
public func loadIDX(imagesPath: String, labelsPath: String, scale: Float = 1) throws -> ImageDataset {
    let imageBytes = try Gzip.readMaybeGzipped(path: imagesPath)
    let imageDims = try IDXHeader.read(imageBytes, path: imagesPath, magic: IDXHeader.imagesMagic, rank: 3)
    let labelBytes = try Gzip.readMaybeGzipped(path: labelsPath)
    let labelDims = try IDXHeader.read(labelBytes, path: labelsPath, magic: IDXHeader.labelsMagic, rank: 1)
    let (count, height, width) = (imageDims[0], imageDims[1], imageDims[2])
    guard labelDims[0] == count else {
        throw DatasetError(path: labelsPath, message: "has \(labelDims[0]) labels but \(imagesPath) has "
            + "\(count) images")
    }
    guard count > 0, height > 0, width > 0 else {
        throw DatasetError(path: imagesPath, message: "header declares \(count) images of \(height)x\(width)")
    }
    let images = imageBytes[(4 + 4 * 3)...].map { Float($0) * scale }
    let labels = labelBytes[(4 + 4 * 1)...].map { Int32($0) }
    return try ImageDataset(name: ImageDataset.name(fromPath: imagesPath, extensions: ["gz"]),
                            channels: 1, height: height, width: width, images: images, labels: labels,
                            classCount: Int(labels.max()!) + 1)
}

/// The header of an IDX file: magic number and big-endian dimensions.
enum IDXHeader {
    /// Unsigned bytes (type code 0x08), 3 dimensions.
    static let imagesMagic: UInt32 = 0x0000_0803
    /// Unsigned bytes (type code 0x08), 1 dimension.
    static let labelsMagic: UInt32 = 0x0000_0801

    /// The `rank` dimensions of the file, after checking the magic and that the file holds
    /// exactly `4 + 4 * rank + product(dimensions)` bytes.
    static func read(_ bytes: [UInt8], path: String, magic: UInt32, rank: Int) throws -> [Int] {
        let headerSize = 4 + 4 * rank
        let kind = rank == 1 ? "label" : "image"
        func bigEndian(_ offset: Int) -> UInt32 {
            (0..<4).reduce(0) { $0 << 8 | UInt32(bytes[offset + $1]) }
        }
        if bytes.count >= 4, case let found = bigEndian(0), found != magic {
            throw DatasetError(path: path, message: "magic number \(hex(found)) is not the IDX \(kind) magic "
                + "\(hex(magic)) (unsigned bytes, \(rank) dimension\(rank == 1 ? "" : "s"))")
        }
        guard bytes.count >= headerSize else {
            throw DatasetError(path: path, message: "file has \(bytes.count) bytes, shorter than the "
                + "\(headerSize)-byte IDX \(kind) header")
        }
        let dimensions = (0..<rank).map { Int(bigEndian(4 + 4 * $0)) }
        let (payload, overflow) = dimensions.reduce((1, false)) { partial, dimension in
            let (product, overflow) = partial.0.multipliedReportingOverflow(by: dimension)
            return (product, partial.1 || overflow)
        }
        guard !overflow, payload == bytes.count - headerSize else {
            let shape = dimensions.map(String.init).joined(separator: "x")
            throw DatasetError(path: path, message: "header dimensions \(shape) need \(headerSize) + "
                + "\(overflow ? "too many" : String(payload)) bytes but the file has \(bytes.count)")
        }
        return dimensions
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
