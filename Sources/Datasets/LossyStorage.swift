import SpecFormat

/// The lossy storage formats of `test_storage` (formulas at ``TestStorage``), applied to every image
/// of a dataset in place.
///
/// Legend: `C`, `H`, `W` of one image; an image is `C * H * W` values in CHW order.
enum LossyStorage {
    static func store(_ data: inout ImageDataset, as storage: TestStorage) {
        switch storage {
        case .lossless: return
        case .uint8: quantize(&data, levels: 255)
        case .uint4: quantize(&data, levels: 15)
        case .halfResolution: halveResolution(&data)
        }
    }

    /// `x' = lo + round(levels * (x - lo) / (hi - lo)) * (hi - lo) / levels` per image, in Double.
    static func quantize(_ data: inout ImageDataset, levels: Int) {
        let size = data.sampleSize
        for n in 0..<data.count {
            let image = n * size ..< (n + 1) * size
            guard let lo = data.images[image].min(), let hi = data.images[image].max(), hi > lo else { continue }
            let range = Double(hi) - Double(lo), l = Double(levels)
            for i in image {
                let q = ((Double(data.images[i]) - Double(lo)) / range * l).rounded()
                data.images[i] = Float(Double(lo) + q * range / l)
            }
        }
    }

    /// Every 2x2 block of every channel replaced by its mean (an odd last row or column: a block of 2 or 1).
    static func halveResolution(_ data: inout ImageDataset) {
        let h = data.height, w = data.width, plane = h * w
        for p in 0..<(data.count * data.channels) {
            let base = p * plane
            for y in stride(from: 0, to: h, by: 2) {
                for x in stride(from: 0, to: w, by: 2) {
                    let rows = y..<min(y + 2, h), columns = x..<min(x + 2, w)
                    var sum = 0.0
                    for r in rows { for c in columns { sum += Double(data.images[base + r * w + c]) } }
                    let mean = Float(sum / Double(rows.count * columns.count))
                    for r in rows { for c in columns { data.images[base + r * w + c] = mean } }
                }
            }
        }
    }
}
