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
    case int(Int64)
    case uint(UInt64)
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
        case .int, .uint: return "an integer"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        case .blob: return "a tensor"
        }
    }
}

extension ArchiveNode: Codable {
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .uint(let u): try c.encode(u)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        case .blob(let i): try c.encode([Self.blobKey: i])
        }
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let i = try? c.decode(Int64.self) { self = .int(i); return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let u = try? c.decode(UInt64.self) { self = .uint(u); return }
        if let a = try? c.decode([ArchiveNode].self) { self = .array(a); return }
        let o = try c.decode([String: ArchiveNode].self)
        if o.count == 1, case .int(let i)? = o[Self.blobKey] {
            self = .blob(Int(i))
        } else {
            self = .object(o)
        }
    }
}
