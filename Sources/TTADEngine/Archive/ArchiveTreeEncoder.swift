import Foundation

/// Collects the blobs of one archive as the encoder meets them.
final class ArchiveBlobSink {
    private(set) var blobs: [ArchiveBlob] = []
    private(set) var byteCount = 0

    func add(_ b: ArchiveBlob) -> ArchiveNode {
        blobs.append(b)
        byteCount += b.count * (ArchiveBlob.elementSize(b.dtype) ?? 1)
        return .blob(blobs.count - 1)
    }
}

/// A node under construction: containers hand out references to their children, which the
/// `Encoder` protocol fills in after the container has been returned.
final class ArchiveSlot {
    var node: ArchiveNode?
    var object: [String: ArchiveSlot]?
    var array: [ArchiveSlot]?

    var finished: ArchiveNode {
        if let object { return .object(object.mapValues(\.finished)) }
        if let array { return .array(array.map(\.finished)) }
        // A value that encoded nothing is an empty object, as with JSONEncoder.
        return node ?? .object([:])
    }
}

/// Turns a value into an `ArchiveNode` tree, moving its float arrays and `Data` into blobs.
struct ArchiveTreeEncoder: Encoder {
    let slot: ArchiveSlot
    let blobs: ArchiveBlobSink
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    static func encode<T: Encodable>(_ value: T, blobs: ArchiveBlobSink) throws -> ArchiveNode {
        let slot = ArchiveSlot()
        try put(value, into: slot, blobs: blobs, path: [])
        return slot.finished
    }

    /// The one place that decides what becomes a blob.
    static func put<T: Encodable>(_ value: T, into slot: ArchiveSlot, blobs: ArchiveBlobSink, path: [CodingKey]) throws {
        // By type, not by cast: an empty array of anything casts to [Float].
        if T.self == [Float].self { slot.node = blobs.add(.f32(value as! [Float])); return }
        if T.self == [Double].self { slot.node = blobs.add(.f64(value as! [Double])); return }
        if T.self == [Int].self { slot.node = blobs.add(.i64(value as! [Int])); return }
        if T.self == Data.self { slot.node = blobs.add(.bytes(Array(value as! Data))); return }
        try value.encode(to: ArchiveTreeEncoder(slot: slot, blobs: blobs, codingPath: path))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if slot.object == nil { slot.object = [:] }
        return KeyedEncodingContainer(ArchiveKeyedEncoder<Key>(slot: slot, blobs: blobs, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        if slot.array == nil { slot.array = [] }
        return ArchiveUnkeyedEncoder(slot: slot, blobs: blobs, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer {
        ArchiveSingleEncoder(slot: slot, blobs: blobs, codingPath: codingPath)
    }
}

/// Scalars as archive nodes (floats as their round-trip text, see `ArchiveNode`).
enum ArchiveScalar {
    /// 2^53: integers beyond are written as text (see `ArchiveNode.int`).
    static let exactLimit: Double = 9_007_199_254_740_992
    static func node(_ v: Int64) -> ArchiveNode { v.magnitude <= 1 << 53 ? .int(v) : .string(String(v)) }
    static func node(_ v: UInt64) -> ArchiveNode { v <= 1 << 53 ? .int(Int64(v)) : .string(String(v)) }
    static func node(_ v: Float) -> ArchiveNode { .string(v.description) }
    static func node(_ v: Double) -> ArchiveNode { .string(v.description) }
}

struct ArchiveSingleEncoder: SingleValueEncodingContainer {
    let slot: ArchiveSlot
    let blobs: ArchiveBlobSink
    let codingPath: [CodingKey]

    mutating func encodeNil() throws { slot.node = .null }
    mutating func encode(_ v: Bool) throws { slot.node = .bool(v) }
    mutating func encode(_ v: String) throws { slot.node = .string(v) }
    mutating func encode(_ v: Double) throws { slot.node = ArchiveScalar.node(v) }
    mutating func encode(_ v: Float) throws { slot.node = ArchiveScalar.node(v) }
    mutating func encode(_ v: Int) throws { slot.node = ArchiveScalar.node(Int64(v)) }
    mutating func encode(_ v: Int8) throws { slot.node = ArchiveScalar.node(Int64(v)) }
    mutating func encode(_ v: Int16) throws { slot.node = ArchiveScalar.node(Int64(v)) }
    mutating func encode(_ v: Int32) throws { slot.node = ArchiveScalar.node(Int64(v)) }
    mutating func encode(_ v: Int64) throws { slot.node = ArchiveScalar.node(v) }
    mutating func encode(_ v: UInt) throws { slot.node = ArchiveScalar.node(UInt64(v)) }
    mutating func encode(_ v: UInt8) throws { slot.node = ArchiveScalar.node(UInt64(v)) }
    mutating func encode(_ v: UInt16) throws { slot.node = ArchiveScalar.node(UInt64(v)) }
    mutating func encode(_ v: UInt32) throws { slot.node = ArchiveScalar.node(UInt64(v)) }
    mutating func encode(_ v: UInt64) throws { slot.node = ArchiveScalar.node(v) }
    mutating func encode<T: Encodable>(_ v: T) throws { try ArchiveTreeEncoder.put(v, into: slot, blobs: blobs, path: codingPath) }
}

struct ArchiveKeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: ArchiveSlot
    let blobs: ArchiveBlobSink
    let codingPath: [CodingKey]

    private func child(_ key: Key) -> ArchiveSlot {
        let s = ArchiveSlot()
        slot.object![key.stringValue] = s
        return s
    }

    private func single(_ key: Key) -> ArchiveSingleEncoder {
        ArchiveSingleEncoder(slot: child(key), blobs: blobs, codingPath: codingPath + [key])
    }

    mutating func encodeNil(forKey key: Key) throws { child(key).node = .null }
    mutating func encode(_ v: Bool, forKey key: Key) throws { var s = single(key); try s.encode(v) }
    mutating func encode(_ v: String, forKey key: Key) throws { var s = single(key); try s.encode(v) }
    mutating func encode(_ v: Double, forKey key: Key) throws { var s = single(key); try s.encode(v) }
    mutating func encode(_ v: Float, forKey key: Key) throws { var s = single(key); try s.encode(v) }
    mutating func encode(_ v: Int, forKey key: Key) throws { var s = single(key); try s.encode(v) }
    mutating func encode(_ v: Int8, forKey key: Key) throws { var s = single(key); try s.encode(v) }
    mutating func encode(_ v: Int16, forKey key: Key) throws { var s = single(key); try s.encode(v) }
    mutating func encode(_ v: Int32, forKey key: Key) throws { var s = single(key); try s.encode(v) }
    mutating func encode(_ v: Int64, forKey key: Key) throws { var s = single(key); try s.encode(v) }
    mutating func encode(_ v: UInt, forKey key: Key) throws { var s = single(key); try s.encode(v) }
    mutating func encode(_ v: UInt8, forKey key: Key) throws { var s = single(key); try s.encode(v) }
    mutating func encode(_ v: UInt16, forKey key: Key) throws { var s = single(key); try s.encode(v) }
    mutating func encode(_ v: UInt32, forKey key: Key) throws { var s = single(key); try s.encode(v) }
    mutating func encode(_ v: UInt64, forKey key: Key) throws { var s = single(key); try s.encode(v) }
    mutating func encode<T: Encodable>(_ v: T, forKey key: Key) throws {
        try ArchiveTreeEncoder.put(v, into: child(key), blobs: blobs, path: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        ArchiveTreeEncoder(slot: child(key), blobs: blobs, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        ArchiveTreeEncoder(slot: child(key), blobs: blobs, codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> Encoder {
        ArchiveTreeEncoder(slot: child(Key(stringValue: "super")!), blobs: blobs, codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> Encoder {
        ArchiveTreeEncoder(slot: child(key), blobs: blobs, codingPath: codingPath + [key])
    }
}

struct ArchiveUnkeyedEncoder: UnkeyedEncodingContainer {
    let slot: ArchiveSlot
    let blobs: ArchiveBlobSink
    let codingPath: [CodingKey]
    var count: Int { slot.array!.count }

    private func child() -> ArchiveSlot {
        let s = ArchiveSlot()
        slot.array!.append(s)
        return s
    }

    private func single() -> ArchiveSingleEncoder { ArchiveSingleEncoder(slot: child(), blobs: blobs, codingPath: codingPath) }

    mutating func encodeNil() throws { child().node = .null }
    mutating func encode(_ v: Bool) throws { var s = single(); try s.encode(v) }
    mutating func encode(_ v: String) throws { var s = single(); try s.encode(v) }
    mutating func encode(_ v: Double) throws { var s = single(); try s.encode(v) }
    mutating func encode(_ v: Float) throws { var s = single(); try s.encode(v) }
    mutating func encode(_ v: Int) throws { var s = single(); try s.encode(v) }
    mutating func encode(_ v: Int8) throws { var s = single(); try s.encode(v) }
    mutating func encode(_ v: Int16) throws { var s = single(); try s.encode(v) }
    mutating func encode(_ v: Int32) throws { var s = single(); try s.encode(v) }
    mutating func encode(_ v: Int64) throws { var s = single(); try s.encode(v) }
    mutating func encode(_ v: UInt) throws { var s = single(); try s.encode(v) }
    mutating func encode(_ v: UInt8) throws { var s = single(); try s.encode(v) }
    mutating func encode(_ v: UInt16) throws { var s = single(); try s.encode(v) }
    mutating func encode(_ v: UInt32) throws { var s = single(); try s.encode(v) }
    mutating func encode(_ v: UInt64) throws { var s = single(); try s.encode(v) }
    mutating func encode<T: Encodable>(_ v: T) throws { try ArchiveTreeEncoder.put(v, into: child(), blobs: blobs, path: codingPath) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        ArchiveTreeEncoder(slot: child(), blobs: blobs, codingPath: codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        ArchiveTreeEncoder(slot: child(), blobs: blobs, codingPath: codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> Encoder { ArchiveTreeEncoder(slot: child(), blobs: blobs, codingPath: codingPath) }
}
