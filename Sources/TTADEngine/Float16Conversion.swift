/// Bulk conversions between 16-bit float formats and Float32.
///
/// Checkpoints ship weights as IEEE half (F16) or bfloat16 (BF16); the engine computes in F32.
/// Conversions run once at load time, but a CLIP checkpoint has ~150 M parameters, so they are
/// written as simple counted loops that LLVM vectorises: with `-target-cpu haswell` the F16 path
/// becomes `vcvtph2ps` (F16C), 8 values per instruction, and BF16 is a shift.
///
/// Sources are raw byte pointers because they usually point into an mmap'd file at an offset
/// with no alignment guarantee; every load is unaligned-safe. Byte order is little-endian (as in
/// safetensors and `<f2` npy files), which is also the host order on every supported target.
#if _endian(big)
#error("TTADEngine assumes a little-endian host")
#endif

public enum Float16Conversion {
    // MARK: To Float32

    /// IEEE binary16 → Float32. Exact: every half value (±0, subnormals, ±∞, NaN payloads'
    /// quietness) is representable in Float32.
    public static func halfToFloat(_ source: UnsafeRawPointer, count: Int,
                                   into destination: UnsafeMutablePointer<Float>) {
        precondition(count >= 0)
        for i in 0..<count {
            let bits = source.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self)
            destination[i] = Float(Float16(bitPattern: bits))
        }
    }

    /// bfloat16 → Float32. Exact: a bfloat16 is the upper 16 bits of a Float32.
    public static func bfloat16ToFloat(_ source: UnsafeRawPointer, count: Int,
                                       into destination: UnsafeMutablePointer<Float>) {
        precondition(count >= 0)
        for i in 0..<count {
            let bits = source.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self)
            destination[i] = Float(bitPattern: UInt32(bits) &<< 16)
        }
    }

    /// Convenience for bit-pattern arrays.
    public static func halfToFloat(_ bits: [UInt16]) -> [Float] {
        if bits.isEmpty { return [] }
        return [Float](unsafeUninitializedCapacity: bits.count) { buffer, initialized in
            bits.withUnsafeBytes { halfToFloat($0.baseAddress!, count: bits.count, into: buffer.baseAddress!) }
            initialized = bits.count
        }
    }

    /// Convenience for bit-pattern arrays.
    public static func bfloat16ToFloat(_ bits: [UInt16]) -> [Float] {
        if bits.isEmpty { return [] }
        return [Float](unsafeUninitializedCapacity: bits.count) { buffer, initialized in
            bits.withUnsafeBytes { bfloat16ToFloat($0.baseAddress!, count: bits.count, into: buffer.baseAddress!) }
            initialized = bits.count
        }
    }

    // MARK: From Float32 (writers, tests, tools)

    /// Float32 → IEEE half bits, round-to-nearest-even; magnitudes beyond 65504 become ±∞,
    /// tiny values become half subnormals or ±0, NaN stays NaN.
    public static func floatToHalfBits(_ values: [Float]) -> [UInt16] {
        values.map { Float16($0).bitPattern }
    }

    /// Float32 → bfloat16 bits, round-to-nearest-even on the dropped 16 bits. NaN is kept a
    /// (quiet) NaN instead of being rounded into ±∞ by the carry.
    public static func floatToBFloat16Bits(_ values: [Float]) -> [UInt16] {
        values.map { v in
            let bits = v.bitPattern
            if v.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
            let roundingBias: UInt32 = 0x7FFF + ((bits >> 16) & 1)
            return UInt16(truncatingIfNeeded: (bits &+ roundingBias) >> 16)
        }
    }
}
