import NN
import TensorCore

/// Fixture tensors as TensorCore values. PyTorch and TensorCore share the row-major layout,
/// so a conversion only has to carry the shape.
extension Fixture {
    /// The tensor `name` as a `Tensor`. Ranks 1, 2 and 4 keep their shape; another rank stops
    /// with the name (use ``copy(_:into:)`` to fill a tensor of another shape with the same count).
    func swiftTensor(_ name: String) -> Tensor {
        let (shape, values) = tensor(name)
        switch shape.count {
        case 1: return Tensor(Shape(shape[0]), values)
        case 2: return Tensor(Shape(shape[0], shape[1]), values)
        case 4: return Tensor(Shape(shape[0], shape[1], shape[2], shape[3]), values)
        default: preconditionFailure("\(path): tensor '\(name)' has rank \(shape.count); Tensor holds ranks 1, 2, 4")
        }
    }

    /// Copies tensor `name` into `destination`, which must hold the same number of values
    /// (e.g. a LayerNorm weight `(2, 3, 3)` into its flat `(18)` parameter).
    func copy(_ name: String, into destination: Tensor) {
        let values = tensor(name).values
        precondition(values.count == destination.count,
                     "\(path): tensor '\(name)' has \(values.count) values, destination \(destination.shape)")
        for (i, v) in values.enumerated() { destination.data[i] = v }
    }

    /// Integer class labels stored as exact floats.
    func labels(_ name: String) -> [Int32] {
        tensor(name).values.map { value in
            precondition(value == value.rounded() && value >= 0, "\(path): label \(value) in '\(name)' is not a class index")
            return Int32(value)
        }
    }
}
