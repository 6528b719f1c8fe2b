import Foundation
import TensorCore

/// Softmax cross-entropy with integer labels, mean over the batch, as
/// `torch.nn.functional.cross_entropy(logits, labels)`.
///
/// Shapes: `logits (N, K)`, labels `N` values in `0..<K`.
/// `loss = (1/N) * sum_n [logsumexp(z_n) - z_n[label_n]]`, with
/// `logsumexp(z) = max(z) + log sum exp(z - max(z))` (stable for large logits).
/// Gradient: `dlogits = (softmax(z) - onehot(label)) / N`.
public final class SoftmaxCrossEntropy {
    /// `dLoss/dlogits` of the last `forward`; owned, overwritten by the next call.
    public let gradient = Tensor()

    public init() {}

    /// Returns the mean loss and fills ``gradient``. Also counts the rows whose
    /// largest logit (first one on ties) is the label.
    public func forward(logits: Tensor, labels: UnsafeBufferPointer<Int32>) -> (loss: Float, correct: Int) {
        precondition(logits.shape.rank == 2 && labels.count == logits.shape.batch,
                     "cross-entropy: logits \(logits.shape) and \(labels.count) labels")
        let n = logits.shape.batch, k = logits.shape.channels
        gradient.resize(to: logits.shape)
        var total = 0.0
        var correct = 0
        let invN = 1 / Float(n)
        for row in 0..<n {
            let z = logits.data + row * k, g = gradient.data + row * k
            let label = Int(labels[row])
            precondition(label >= 0 && label < k, "cross-entropy: label \(label) outside 0..<\(k)")
            var maxValue = z[0], argmax = 0
            for j in 1..<max(k, 1) where z[j] > maxValue { maxValue = z[j]; argmax = j }
            if argmax == label { correct += 1 }
            var sum: Float = 0
            for j in 0..<k { let e = expf(z[j] - maxValue); g[j] = e; sum += e }
            let logSum = logf(sum)
            total += Double(logSum + maxValue - z[label])
            let invSum = 1 / sum
            for j in 0..<k { g[j] = g[j] * invSum * invN }
            g[label] -= invN
        }
        return (Float(total / Double(n)), correct)
    }

    /// Index of the largest logit of each row (the first on ties), as `argmax(dim=1)`.
    public static func predictions(_ logits: Tensor, into result: inout [Int32]) {
        let n = logits.shape.batch, k = logits.shape.channels
        result.removeAll(keepingCapacity: true)
        for row in 0..<n {
            let z = logits.data + row * k
            var best = 0
            for j in 1..<max(k, 1) where z[j] > z[best] { best = j }
            result.append(Int32(best))
        }
    }
}
