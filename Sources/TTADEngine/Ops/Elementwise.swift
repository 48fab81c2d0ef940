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
}
