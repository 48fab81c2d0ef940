import Foundation

/// Writes safetensors files from Float32 values, storing each tensor as F32, F16 or BF16.
///
/// Used by tests and tools (fixtures, exported class embeddings) — not a hot path, so it builds
/// the file in memory and writes it atomically (temp file + rename), which also means a reader
/// never sees a half-written file.
///
/// Layout choices: tensors are laid out in the order given, back to back; the JSON header has
/// sorted keys (byte-for-byte reproducible output) and is space-padded so the data section
/// starts 8-byte aligned, as recent versions of the reference implementation do.
public enum SafeTensorsWriter {
    public struct Entry: Sendable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        /// Storage type: `.f32`, `.f16` or `.bf16` (values are rounded to nearest even).
        public var dtype: SafeTensorsDType

        public init(name: String, shape: [Int], values: [Float], dtype: SafeTensorsDType = .f32) {
            self.name = name
            self.shape = shape
            self.values = values
            self.dtype = dtype
        }
    }

    public static func write(path: String, tensors: [Entry], metadata: [String: String] = [:]) throws(SafeTensorsError) {
        let data = try encode(tensors: tensors, metadata: metadata, path: path)
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .io(file: path, detail: "write failed: \(error.localizedDescription)")
        }
    }

    /// The complete file as bytes (exposed so tests can corrupt it surgically).
    public static func encode(tensors: [Entry], metadata: [String: String] = [:],
                              path: String = "<memory>") throws(SafeTensorsError) -> Data {
        var header: [String: Any] = [:]
        var body = Data()
        var seen = Set<String>()
        for t in tensors {
            guard t.name != "__metadata__", !t.name.isEmpty else {
                throw .invalidInput(file: path, detail: "invalid tensor name '\(t.name)'")
            }
            guard seen.insert(t.name).inserted else {
                throw .invalidInput(file: path, detail: "duplicate tensor name '\(t.name)'")
            }
            guard let n = Tensor.elementCount(of: t.shape), n == t.values.count else {
                throw .invalidInput(file: path, detail: "tensor '\(t.name)': shape \(t.shape) does not match \(t.values.count) values")
            }
            let begin = body.count
            switch t.dtype {
            case .f32:
                t.values.withUnsafeBytes { body.append(contentsOf: $0) }
            case .f16:
                Float16Conversion.floatToHalfBits(t.values).withUnsafeBytes { body.append(contentsOf: $0) }
            case .bf16:
                Float16Conversion.floatToBFloat16Bits(t.values).withUnsafeBytes { body.append(contentsOf: $0) }
            default:
                throw .invalidInput(file: path, detail: "tensor '\(t.name)': cannot write dtype \(t.dtype)")
            }
            header[t.name] = ["dtype": t.dtype.rawValue, "shape": t.shape, "data_offsets": [begin, body.count]] as [String: Any]
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }

        var json: Data
        do {
            json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw .invalidInput(file: path, detail: "header is not serialisable: \(error.localizedDescription)")
        }
        let padding = (8 - (8 + json.count) % 8) % 8
        json.append(contentsOf: [UInt8](repeating: 0x20, count: padding))

        var out = Data(capacity: 8 + json.count + body.count)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(body)
        return out
    }
}
