#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed-size, 64-byte-aligned block of Float32 owned by a class, for model parameters,
/// activations and scratch.
///
/// Why not `Tensor`/`[Float]`: the model's forward (and later backward) hands dozens of
/// buffers to BLAS and SIMD kernels per layer. With arrays every access is a closure
/// (`withUnsafeMutableBufferPointer`) and nesting ten of them is unreadable; a stable pointer
/// owned by a reference keeps kernel call sites flat and never triggers a copy-on-write.
/// Alignment to a cache line lets OpenBLAS and the SIMD loops use aligned loads where they can.
///
/// Not thread-safe by itself: whoever owns a buffer decides who may write it. Parameters are
/// written once at load time and then only read, which is why sharing across threads is safe
/// for them (`@unchecked Sendable`).
public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// A zero-filled buffer of `count` floats.
    public init(count: Int) {
        precondition(count >= 0, "FloatBuffer: negative count \(count)")
        self.count = count
        let bytes = max(64, count * MemoryLayout<Float>.stride)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        pointer = raw.bindMemory(to: Float.self, capacity: max(1, count))
    }

    /// A buffer holding a copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let b = src.baseAddress { pointer.update(from: b, count: values.count) }
        }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// A copy as an array (tests, checkpoints; not for hot paths).
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }

    /// Copies `other`'s contents (same count) into this buffer.
    public func copy(from other: FloatBuffer) {
        precondition(other.count == count, "FloatBuffer.copy: \(other.count) into \(count)")
        pointer.update(from: other.pointer, count: count)
    }
}

/// Scratch memory that grows to the largest size asked for and is then reused, so a forward
/// pass allocates only while shapes are still growing (the first call at a new batch size).
public final class ScratchBuffer: @unchecked Sendable {
    public private(set) var storage: FloatBuffer

    public init(initialCount: Int = 0) { storage = FloatBuffer(count: initialCount) }

    /// A pointer to at least `count` floats. Contents are unspecified after growth.
    public func pointer(atLeast count: Int) -> UnsafeMutablePointer<Float> {
        if storage.count < count { storage = FloatBuffer(count: count) }
        return storage.pointer
    }
}
