/// A dense, contiguous, row-major Float32 tensor with value semantics.
///
/// Representation choice: `storage` is a plain Swift `[Float]`. That gives copy-on-write value
/// semantics, `Sendable`, and zero-cost access through `withUnsafe(Mutable)BufferPointer` for
/// BLAS and the SIMD kernels, with no lifetime rules to get wrong. Today a tensor is what
/// weight loaders hand out (class embeddings, later the CLIP parameters), and those are
/// written once and then only read.
///
/// What this deliberately is not (yet): a view/stride type, a device buffer, or an autograd
/// node. When the training engine arrives, activations and gradients will want reusable,
/// possibly aligned scratch buffers; that will be a separate type built next to this one rather
/// than a retrofit, and `Tensor` stays the simple owning container for parameters.
public struct Tensor: Sendable, Equatable {
    /// Extent of each dimension, outermost first. `[]` is a scalar (one element).
    public let shape: [Int]
    /// `count` elements in row-major order (last index varies fastest).
    public var storage: [Float]

    /// Wraps existing values. Traps if `storage.count` ≠ the product of `shape`.
    public init(shape: [Int], storage: [Float]) {
        let n = Tensor.elementCount(of: shape)
        precondition(n == storage.count,
                     "Tensor: shape \(shape) needs \(n ?? -1) elements, storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    /// A tensor of the given shape filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        guard let n = Tensor.elementCount(of: shape) else {
            preconditionFailure("Tensor: invalid shape \(shape)")
        }
        self.shape = shape
        self.storage = [Float](repeating: value, count: n)
    }

    /// Product of the dimensions, or nil if a dimension is negative or the product overflows.
    /// Shared by loaders, which must validate untrusted shapes before allocating.
    public static func elementCount(of shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return n
    }

    public var rank: Int { shape.count }
    public var count: Int { storage.count }

    /// Row-major strides in elements.
    public var strides: [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// Element access by full index (bounds-checked; for tests and load-time code, not kernels).
    public subscript(_ indices: Int...) -> Float {
        get { storage[flatIndex(indices)] }
        set { storage[flatIndex(indices)] = newValue }
    }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, storage: storage)
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer(body)
    }

    private func flatIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == shape.count, "Tensor: \(indices.count) indices for rank \(shape.count)")
        var flat = 0
        for (i, d) in zip(indices, shape) {
            precondition(i >= 0 && i < d, "Tensor: index \(indices) out of bounds for shape \(shape)")
            flat = flat * d + i
        }
        return flat
    }
}
