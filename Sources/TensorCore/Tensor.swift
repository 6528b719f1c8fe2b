/// A Float32 array in contiguous row-major order (`(N, C)` or `(N, C, H, W)`).
///
/// `Tensor` is a reference type on purpose: layers own their outputs and
/// workspaces and hand out references to them, so a training step allocates
/// nothing once shapes are stable. The contract that follows from it:
/// **a tensor returned by a layer's `forward` or `backward` is owned by that
/// layer and is overwritten by its next call.** Keep it with ``copy()``.
///
/// `resize(to:)` keeps the buffer when it is large enough (a smaller last
/// batch reuses the same memory) and leaves the contents unspecified.
public final class Tensor: CustomStringConvertible {
    public private(set) var shape: Shape
    /// Allocated length of `data`, in values; `>= shape.count`.
    public private(set) var capacity: Int
    /// Start of the row-major storage. Valid until the next `resize(to:)`
    /// that grows the tensor.
    public private(set) var data: UnsafeMutablePointer<Float>

    /// A tensor of zeros.
    public init(_ shape: Shape) {
        self.shape = shape
        capacity = max(shape.count, 1)
        data = .allocate(capacity: capacity)
        data.initialize(repeating: 0, count: capacity)
    }

    /// A tensor holding `values` (row-major); `values.count` must equal `shape.count`.
    public convenience init(_ shape: Shape, _ values: [Float]) {
        precondition(values.count == shape.count,
                     "Tensor\(shape) needs \(shape.count) values, got \(values.count)")
        self.init(shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
    }

    /// An empty placeholder, grown by the first `resize(to:)`.
    public convenience init() { self.init(Shape(0)) }

    deinit { data.deallocate() }

    public var count: Int { shape.count }

    /// Sets the shape; reallocates only when the buffer is too small.
    /// Contents are unspecified afterwards.
    @inline(__always)
    public func resize(to newShape: Shape) {
        if newShape.count > capacity {
            data.deallocate()
            capacity = newShape.count
            data = .allocate(capacity: capacity)
            data.initialize(repeating: 0, count: capacity)
        }
        shape = newShape
    }

    /// Reinterprets the same values under another shape with the same count.
    public func reshape(to newShape: Shape) {
        precondition(newShape.count == shape.count, "cannot reshape \(shape) to \(newShape)")
        shape = newShape
    }

    /// A new tensor with the same shape and values (a real copy).
    public func copy() -> Tensor {
        let t = Tensor(shape)
        t.data.update(from: data, count: count)
        return t
    }

    /// Resizes to `source.shape` and copies its values.
    public func assign(_ source: Tensor) {
        resize(to: source.shape)
        data.update(from: source.data, count: source.count)
    }

    public func fill(_ value: Float) {
        data.update(repeating: value, count: count)
    }

    /// The values as a Swift array (for tests and output, not for hot loops).
    public var array: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }

    /// Bounds-checked element access (tests and set-up code only).
    public subscript(i: Int) -> Float {
        get { precondition(i >= 0 && i < count, "index \(i) out of range \(shape)"); return data[i] }
        set { precondition(i >= 0 && i < count, "index \(i) out of range \(shape)"); data[i] = newValue }
    }

    public var description: String {
        let head = array.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor\(shape)[\(head)\(count > 8 ? ", ..." : "")]"
    }
}
