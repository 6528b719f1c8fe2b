import NN
import TensorCore

/// The floating-point operations of one training step, per sample, counted the usual way:
/// only convolutions and linear layers (their GEMM-equivalents), `2*M*N*K` per GEMM.
///
/// - Conv2d: forward `2 * O * (C*K*K) * (OH*OW)`; Linear: forward `2 * IN * OUT`.
/// - Backward: the weight gradient costs as much as the forward, and so does the input
///   gradient, so backward = 2x forward, or 1x for a layer that does not compute its input
///   gradient (``Layer/computesInputGradient``, false for a model's first layer).
/// Bias, normalization, activation, pooling, loss and optimizer work is not counted.
enum TrainingFlops {
    /// Forward + backward FLOPs per sample for `model` on samples of `(C, H, W)`. Runs the model
    /// once in eval mode on a zero batch of one, reading each conv's input shape on the way (every
    /// layer, also inside residual blocks; eval mode changes no state).
    static func perSample(model: Sequential, channels: Int, height: Int, width: Int) throws -> Double {
        var total = 0.0
        _ = try model.forward(Tensor(Shape(1, channels, height, width)), mode: .eval) { layer, x in
            var forward = 0.0
            if let conv = layer as? Conv2d {
                let oh = conv.outputSize(x.shape[2]), ow = conv.outputSize(x.shape[3])
                forward = 2 * Double(conv.outChannels * conv.inChannels * conv.kernelSize * conv.kernelSize * oh * ow)
            } else if let linear = layer as? Linear {
                forward = 2 * Double(linear.inFeatures * linear.outFeatures)
            }
            total += forward * (layer.computesInputGradient ? 3 : 2)
        }
        return total
    }
}
