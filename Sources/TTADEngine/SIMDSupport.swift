// Small SIMD building blocks shared by the engine's kernels.
//
// Two reasons this file exists:
//
// 1. Unaligned access. Buffers come from Swift arrays, mmap'd weight files and caller-owned
//    memory, none of which promise 32-byte alignment. `loadUnaligned` / `storeBytes` compile to
//    plain `vmovups` (no penalty on aligned data on any AVX-era core), so kernels never peel.
//
// 2. Codegen traps in the standard library. As of Swift 6.3, `pointwiseMin`/`pointwiseMax`,
//    `clamped(lowerBound:upperBound:)`, the horizontal `.max()`/`.min()` and `any(_:)` on
//    `SIMD8<Float>` masks are *not* inlined (or are scalarised): each is an outlined generic call per vector, which made a 1000-class
//    softmax ~4× slower. `replacing(with:where:)` with a comparison mask, by contrast, lowers to
//    a single `vmaxps`/`vminps`/blend. Use the helpers below instead of those stdlib calls in
//    hot loops. (Comparisons, arithmetic, `addingProduct` (FMA), bit casts, shifts and `.sum()`
//    are fine.)

@inline(__always)
func loadVector8(_ base: UnsafePointer<Float>, _ offset: Int) -> SIMD8<Float> {
    UnsafeRawPointer(base + offset).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func loadVector8(_ base: UnsafeMutablePointer<Float>, _ offset: Int) -> SIMD8<Float> {
    UnsafeRawPointer(base + offset).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func storeVector8(_ value: SIMD8<Float>, _ base: UnsafeMutablePointer<Float>, _ offset: Int) {
    UnsafeMutableRawPointer(base + offset).storeBytes(of: value, as: SIMD8<Float>.self)
}

/// Lane-wise max. NaN in `b` is ignored (keeps `a`); NaN in `a` is kept.
@inlinable @inline(__always)
func laneMax(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    a.replacing(with: b, where: a .< b)
}

/// Lane-wise min. NaN in `b` is ignored (keeps `a`); NaN in `a` is kept.
@inlinable @inline(__always)
func laneMin(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    a.replacing(with: b, where: b .< a)
}

/// Largest lane, ignoring NaN lanes (−∞ if all are NaN). Folds halves (8 → 4 → 2) with vector
/// max, then finishes in scalar: ~6 instructions instead of a chain of 8 scalar compares.
@inlinable @inline(__always)
func horizontalMax(_ v: SIMD8<Float>) -> Float {
    let ninf = SIMD4<Float>(repeating: -.infinity)
    var a = v.lowHalf, b = v.highHalf
    a = a.replacing(with: ninf, where: .!(a .== a))     // drop NaN lanes from both halves
    b = b.replacing(with: ninf, where: .!(b .== b))
    let m4 = a.replacing(with: b, where: a .< b)
    let m2a = m4.lowHalf, m2b = m4.highHalf
    let m2 = m2a.replacing(with: m2b, where: m2a .< m2b)
    return m2[0] < m2[1] ? m2[1] : m2[0]
}
