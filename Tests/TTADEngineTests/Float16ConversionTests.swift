import Foundation
import XCTest
@testable import TTADEngine

final class Float16ConversionTests: XCTestCase {
    /// Independent decoder for IEEE binary16, straight from the definition.
    private func decodeHalf(_ bits: UInt16) -> Float {
        let sign: Float = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1F), mantissa = Float(bits & 0x3FF)
        switch exponent {
        case 0: return sign * mantissa * Float(Foundation.pow(2.0, -24.0))
        case 31: return mantissa == 0 ? sign * .infinity : .nan
        default: return sign * (1 + mantissa / 1024) * Float(Foundation.pow(2.0, Double(exponent - 15)))
        }
    }

    func testHalfToFloatExhaustive() {
        let all = (0...UInt16.max).map { $0 }
        let converted = Float16Conversion.halfToFloat(all)
        for (bits, value) in zip(all, converted) {
            let expected = decodeHalf(bits)
            if expected.isNaN {
                XCTAssertTrue(value.isNaN, "bits \(bits)")
            } else {
                XCTAssertEqual(value.bitPattern, expected.bitPattern, "bits \(String(bits, radix: 16))")
            }
        }
    }

    func testHalfSpecialValues() {
        let v = Float16Conversion.halfToFloat([0x0000, 0x8000, 0x3C00, 0x7C00, 0xFC00, 0x7E00, 0x0001, 0x03FF, 0x7BFF])
        XCTAssertEqual(v[0].bitPattern, Float(0).bitPattern)
        XCTAssertEqual(v[1].bitPattern, Float(-0.0).bitPattern)
        XCTAssertEqual(v[2], 1)
        XCTAssertEqual(v[3], .infinity)
        XCTAssertEqual(v[4], -.infinity)
        XCTAssertTrue(v[5].isNaN)
        XCTAssertEqual(v[6], 5.960_464_5e-8)            // smallest subnormal half, 2^-24
        XCTAssertEqual(v[7], 6.097_555e-5)              // largest subnormal half
        XCTAssertEqual(v[8], 65504)
    }

    func testBFloat16Conversion() {
        let v = Float16Conversion.bfloat16ToFloat([0x3F80, 0xBF80, 0x7F80, 0xFF80, 0x7FC0, 0x0001, 0x0000, 0x4049])
        XCTAssertEqual(v[0], 1)
        XCTAssertEqual(v[1], -1)
        XCTAssertEqual(v[2], .infinity)
        XCTAssertEqual(v[3], -.infinity)
        XCTAssertTrue(v[4].isNaN)
        XCTAssertEqual(v[5], Float(bitPattern: 0x0001_0000))    // subnormal survives
        XCTAssertEqual(v[6], 0)
        XCTAssertEqual(v[7], 3.140625)
    }

    func testUnalignedSources() {
        // Bytes at an odd offset, as inside an mmap'd safetensors data section.
        var bytes: [UInt8] = [0xAA]
        bytes += [0x00, 0x3C, 0x00, 0xC0, 0x00, 0x7C]      // half 1, -2, +inf (little-endian)
        var out = [Float](repeating: 0, count: 3)
        bytes.withUnsafeBytes { raw in
            Float16Conversion.halfToFloat(raw.baseAddress! + 1, count: 3, into: &out)
        }
        XCTAssertEqual(out, [1, -2, .infinity])
        bytes = [0xAA, 0x80, 0x3F, 0x00, 0xC0]               // bf16 1, -2
        bytes.withUnsafeBytes { raw in
            Float16Conversion.bfloat16ToFloat(raw.baseAddress! + 1, count: 2, into: &out)
        }
        XCTAssertEqual(Array(out.prefix(2)), [1, -2])
    }

    func testFloatToHalfAndBFloat16Rounding() {
        let halves = Float16Conversion.floatToHalfBits([1, 65504, 70000, 1e-8, -0.0, .nan, 1 + 1.0 / 2048])
        XCTAssertEqual(halves[0], 0x3C00)
        XCTAssertEqual(halves[1], 0x7BFF)
        XCTAssertEqual(halves[2], 0x7C00)                    // overflow → +inf
        XCTAssertEqual(halves[3], 0x0000)                    // below half the smallest subnormal → 0
        XCTAssertEqual(halves[4], 0x8000)
        XCTAssertEqual(halves[5] & 0x7C00, 0x7C00)
        XCTAssertNotEqual(halves[5] & 0x03FF, 0)
        XCTAssertEqual(halves[6], 0x3C00)                    // exact tie → even

        let b = Float16Conversion.floatToBFloat16Bits([1, 1 + 1.0 / 256, 1 + 3.0 / 256, .nan, .infinity, -2])
        XCTAssertEqual(b[0], 0x3F80)
        XCTAssertEqual(b[1], 0x3F80)                         // tie → even (down)
        XCTAssertEqual(b[2], 0x3F82)                         // tie → even (up)
        XCTAssertTrue(Float16Conversion.bfloat16ToFloat([b[3]])[0].isNaN)
        XCTAssertEqual(b[4], 0x7F80)
        XCTAssertEqual(b[5], 0xC000)
    }

    func testEmptyInputs() {
        XCTAssertEqual(Float16Conversion.halfToFloat([]), [])
        XCTAssertEqual(Float16Conversion.bfloat16ToFloat([]), [])
    }
}
