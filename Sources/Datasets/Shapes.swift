import SpecFormat
import TensorCore

/// The embedded synthetic dataset "exposure-jittered shapes" (before jitter): white shapes
/// on a black canvas, three classes that a small CNN separates easily, so that the failures
/// studied here come from BatchNorm and not from the data.
public enum Shapes {
    /// Class names by label: 0 = disc, 1 = square, 2 = cross.
    public static let classNames = ["disc", "square", "cross"]

    /// `count` images of one channel on a `size x size` canvas, named `"shapes"`.
    ///
    /// The recipe, which defines the data (every draw from `rng`, in this order):
    /// 1. Labels `i % 3` for `i` in `0..<count` (exactly balanced), then shuffled with `rng`.
    /// 2. For each image in order: half-size `r = rng.uniform(3, 6)`, centre
    ///    `cx = rng.uniform(r, size - r)`, `cy = rng.uniform(r, size - r)` (so the shape's
    ///    bounding box fits), then one `rng.normal()` per pixel in row-major order.
    /// 3. Pixel `(x, y)` has its centre at `(x + 0.5, y + 0.5)`; with `dx = x + 0.5 - cx`,
    ///    `dy = y + 0.5 - cy` it is inside
    ///    - a disc when `dx^2 + dy^2 <= r^2`,
    ///    - a square when `|dx| <= 0.85 r` and `|dy| <= 0.85 r`,
    ///    - a cross when `(|dx| <= r and |dy| <= r/3) or (|dy| <= r and |dx| <= r/3)`.
    /// 4. `pixel = (inside ? 1 : 0) + noise * normal`, in Float.
    ///
    /// The noise draws are made even when `noise == 0`, so one seed gives the same shapes at
    /// every noise level. Requires `count >= 0`, `size >= 12` (a shape is up to 12 wide) and
    /// `noise >= 0`.
    public static func generate(count: Int, size: Int = 16, noise: Float = 0.25,
                                rng: inout RandomGenerator) -> ImageDataset {
        precondition(count >= 0, "Shapes.generate: count must be >= 0, got \(count)")
        precondition(size >= 12, "Shapes.generate: size must be >= 12 to fit a shape of half-size 6, got \(size)")
        precondition(noise >= 0, "Shapes.generate: noise must be >= 0, got \(noise)")
        var labels = (0..<count).map { Int32($0 % 3) }
        rng.shuffle(&labels)
        let pixelCount = size * size
        var images = [Float](repeating: 0, count: count * pixelCount)
        for (n, label) in labels.enumerated() {
            let r = rng.uniform(3, 6)
            let cx = rng.uniform(r, Float(size) - r), cy = rng.uniform(r, Float(size) - r)
            for y in 0..<size {
                for x in 0..<size {
                    let dx = Float(x) + 0.5 - cx, dy = Float(y) + 0.5 - cy
                    let ink: Float = isInside(label: label, dx: dx, dy: dy, r: r) ? 1 : 0
                    images[n * pixelCount + y * size + x] = ink + noise * rng.normal()
                }
            }
        }
        return try! ImageDataset(name: "shapes", channels: 1, height: size, width: size,
                                 images: images, labels: labels, classCount: 3)
    }

    /// Whether offset `(dx, dy)` from the centre lies in shape `label` of half-size `r`.
    static func isInside(label: Int32, dx: Float, dy: Float, r: Float) -> Bool {
        switch label {
        case 0: return dx * dx + dy * dy <= r * r
        case 1: return abs(dx) <= 0.85 * r && abs(dy) <= 0.85 * r
        default: return (abs(dx) <= r && abs(dy) <= r / 3) || (abs(dy) <= r && abs(dx) <= r / 3)
        }
    }
}
