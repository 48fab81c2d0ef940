/// Everything that can be wrong with a CLIP model folder or its inputs. Each case names the
/// file, key or tensor at fault, because the operator's only view of a bad checkpoint is the
/// startup error.
public enum CLIPModelError: Error, Equatable, CustomStringConvertible {
    case missingFile(path: String)
    case unreadableFile(path: String, detail: String)
    case badConfig(file: String, key: String, detail: String)
    case missingTensor(file: String, name: String)
    case tensorShape(file: String, name: String, expected: [Int], actual: [Int])
    case unsupportedDType(file: String, name: String, dtype: String)
    case nonFiniteWeight(file: String, name: String)
    case badTokenIDs(detail: String)
    case badInput(detail: String)

    public var description: String {
        switch self {
        case let .missingFile(p): return "\(p): file not found (a CLIP model folder needs config.json, model.safetensors, vocab.json and merges.txt)"
        case let .unreadableFile(p, d): return "\(p): cannot read: \(d)"
        case let .badConfig(f, k, d): return "\(f): bad value for '\(k)': \(d)"
        case let .missingTensor(f, n): return "\(f): missing tensor '\(n)'"
        case let .tensorShape(f, n, e, a): return "\(f): tensor '\(n)' has shape \(a), expected \(e)"
        case let .unsupportedDType(f, n, d): return "\(f): tensor '\(n)' has dtype \(d); supported: F32, F16, BF16"
        case let .nonFiniteWeight(f, n): return "\(f): tensor '\(n)' contains NaN or infinity"
        case let .badTokenIDs(d): return "bad token ids: \(d)"
        case let .badInput(d): return "bad input: \(d)"
        }
    }
}
