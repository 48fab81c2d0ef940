/// The vision tower's patch embedding — a `Conv2d(3, D, kernel = stride = p, bias = false)` —
/// as one matrix product: each non-overlapping `p × p` patch is unrolled into a row
/// (channel-major, then kernel row, then kernel column: the order of the conv weight
/// `[D, 3, p, p]` flattened), and `rows · Wᵀ` gives every patch's embedding at once.
public enum PatchEmbedding {
    /// Unrolls a `channels × size × size` image (CHW) into `(size/p)² × (channels·p·p)` rows,
    /// patches in row-major grid order, as the conv's output is flattened.
    public static func unroll(
        image: UnsafePointer<Float>, channels: Int, size: Int, patch p: Int,
        rows: UnsafeMutablePointer<Float>
    ) {
        precondition(p > 0 && size % p == 0, "PatchEmbedding: size \(size) is not a multiple of patch \(p)")
        let grid = size / p
        let rowLength = channels * p * p
        for gy in 0..<grid {
            for gx in 0..<grid {
                var dst = rows + (gy * grid + gx) * rowLength
                for c in 0..<channels {
                    let plane = image + c * size * size
                    for ky in 0..<p {
                        dst.update(from: plane + (gy * p + ky) * size + gx * p, count: p)
                        dst += p
                    }
                }
            }
        }
    }
}
