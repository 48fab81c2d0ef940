import Foundation

/// One value of a state archive's JSON part. Tensors and byte strings are not in it: a `.blob`
/// names their index in the archive's binary part.
///
/// Float scalars are kept as the text of their shortest round-trip representation ("0.1",
/// "-0.0", "nan", "inf") in a JSON string: parsing that text back as the same type gives the
/// same bits, which a JSON number read as a Double and narrowed to a Float would not promise.
enum ArchiveNode: Equatable {
    case null
    case bool(Bool)
    /// Integers within ±2^53 (exact in any JSON reader's double); larger ones are kept as their
    /// decimal `.string`.
    case int(Int64)
    case string(String)
    case array([ArchiveNode])
    case object([String: ArchiveNode])
    case blob(Int)

    /// The JSON key that marks an object as a reference to a blob (no state type has this key).
    static let blobKey = "@blob"

    var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a bool"
        case .int: return "an integer"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        case .blob: return "a tensor"
        }
    }
}

extension ArchiveNode: Encodable {
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        case .blob(let i): try c.encode([Self.blobKey: i])
        }
    }
}

extension ArchiveNode {
    /// From what `JSONSerialization` parsed. Read this way rather than through a `Decodable`
    /// that probes each value's kind by trial: a bank of thousands of integers made that slower
    /// than the JSON it replaces.
    init(parsed v: Any) throws {
        switch v {
        case is NSNull:
            self = .null
        case let s as String:
            self = .string(s)
        case let n as NSNumber:
            // JSONSerialization gives true/false as a boolean NSNumber (type code "c"), integers as
            // "i"/"q"; this format writes no fractional numbers.
            switch String(cString: n.objCType) {
            case "c": self = .bool(n.boolValue)
            case "i", "l", "q", "s": self = .int(n.int64Value)
            case "Q" where n.uint64Value <= UInt64(Int64.max): self = .int(n.int64Value)
            // A parser may read a large integer as a double; the writer keeps numbers within
            // ±2^53, where a double is exact.
            case "d" where n.doubleValue.rounded() == n.doubleValue && abs(n.doubleValue) <= ArchiveScalar.exactLimit:
                self = .int(Int64(n.doubleValue))
            default: throw StateArchiveError.corrupt("number \(n) in the header is not an integer this format writes")
            }
        case let a as [Any]:
            self = .array(try a.map { try ArchiveNode(parsed: $0) })
        case let o as [String: Any]:
            if o.count == 1, let n = o[Self.blobKey] as? NSNumber, case .int(let i) = try ArchiveNode(parsed: n) {
                self = .blob(Int(i))
            } else {
                self = .object(try o.mapValues { try ArchiveNode(parsed: $0) })
            }
        default:
            throw StateArchiveError.corrupt("unexpected \(type(of: v)) in the header")
        }
    }
}
