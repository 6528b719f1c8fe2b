import Foundation
import TensorCore

/// Per-image exposure jitter: every image gets its own gain and offset,
/// `x' = g * x + o` for all its pixels (all channels).
///
/// Why it matters: a camera's exposure scales and shifts a whole image. BatchNorm in
/// training mode with batch size 1 (and InstanceNorm-like statistics) normalizes each
/// image by its own mean and standard deviation, which removes `g` and `o` exactly; the
/// running statistics used at evaluation are averages over many images and cannot undo a
/// particular image's `g` and `o`. Jittered data therefore separates models that learned
/// to rely on per-batch normalization from models that do not.
public struct Jitter: Sendable, Equatable {
    /// Range of the gain `g`, drawn log-uniformly: `g = exp(uniform(log lo, log hi))`.
    public let gain: ClosedRange<Float>
    /// Range of the offset `o`, drawn uniformly: `o = uniform(lo, hi)`.
    public let offset: ClosedRange<Float>

    /// Requires a positive, finite gain range and a finite offset range.
    public init(gain: ClosedRange<Float>, offset: ClosedRange<Float>) {
        precondition(gain.lowerBound > 0 && gain.upperBound.isFinite,
                     "Jitter: gain range must be positive and finite, got \(gain)")
        precondition(offset.lowerBound.isFinite && offset.upperBound.isFinite,
                     "Jitter: offset range must be finite, got \(offset)")
        self.gain = gain
        self.offset = offset
    }

    /// Applies the jitter in place. Draws, for each image in order: `g` (one `rng.uniform`
    /// of the log range, then `exp`), then `o` (one `rng.uniform`).
    public func apply(to dataset: inout ImageDataset, rng: inout RandomGenerator) {
        let logLow = log(gain.lowerBound), logHigh = log(gain.upperBound)
        let size = dataset.sampleSize, count = dataset.count
        dataset.images.withUnsafeMutableBufferPointer { images in
            for n in 0..<count {
                let g = exp(rng.uniform(logLow, logHigh))
                let o = rng.uniform(offset.lowerBound, offset.upperBound)
                for i in (n * size)..<((n + 1) * size) { images[i] = g * images[i] + o }
            }
        }
    }
}
