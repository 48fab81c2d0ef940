/// Element-wise vector arithmetic the transformer blocks need between matrix products.
public enum Elementwise {
    /// `y += x` over `count` floats (the residual connection).
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            storeVector8(loadVector8(y, i) + loadVector8(x, i), y, i)
            i += 8
        }
        while i < count { y[i] += x[i]; i += 1 }
    }

    /// `y = a + b` over `count` floats (y may alias either input).
    public static func sum(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                           into y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            storeVector8(loadVector8(a, i) + loadVector8(b, i), y, i)
            i += 8
        }
        while i < count { y[i] = a[i] + b[i]; i += 1 }
    }

    /// `y = aᵀ` (or `y += aᵀ`) for `a` stored `rows × columns` dense, `y` `columns × rows` with
    /// row stride `ldy`. Walks 8×8 tiles so reads and writes both stay within a few cache lines.
    public static func transpose(_ a: UnsafePointer<Float>, rows: Int, columns: Int,
                                 into y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        let tile = 8
        var r0 = 0
        while r0 < rows {
            let r1 = min(r0 + tile, rows)
            var c0 = 0
            while c0 < columns {
                let c1 = min(c0 + tile, columns)
                for c in c0..<c1 {
                    let dst = y + c * ldy
                    if accumulate {
                        for r in r0..<r1 { dst[r] += a[r * columns + c] }
                    } else {
                        for r in r0..<r1 { dst[r] = a[r * columns + c] }
                    }
                }
                c0 = c1
            }
            r0 = r1
        }
    }
}
