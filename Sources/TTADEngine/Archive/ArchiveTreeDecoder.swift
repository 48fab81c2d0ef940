import Foundation

/// Reads a value back from an `ArchiveNode` tree and the archive's blobs. Every mismatch
/// between the tree and the type asked for is a thrown `StateArchiveError.mismatch`.
struct ArchiveTreeDecoder: Decoder {
    let node: ArchiveNode
    let blobs: [ArchiveBlob]
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    static func decode<T: Decodable>(_ type: T.Type, from node: ArchiveNode, blobs: [ArchiveBlob]) throws -> T {
        try take(type, node, blobs: blobs, path: [])
    }

    static func mismatch(_ path: [CodingKey], _ detail: String) -> StateArchiveError {
        .mismatch(path: path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: "."), detail: detail)
    }

    /// The one place that decides what comes from a blob (the mirror of `ArchiveTreeEncoder.put`).
    static func take<T: Decodable>(_ type: T.Type, _ node: ArchiveNode, blobs: [ArchiveBlob], path: [CodingKey]) throws -> T {
        // A blob where the type is one; an array (a type that encoded a ContiguousArray or another
        // collection of these elements) decodes element by element below.
        if T.self == [Float].self || T.self == [Double].self || T.self == [Int].self || T.self == Data.self, node.kind != "an array" {
            guard case .blob(let i) = node else { throw mismatch(path, "expected a tensor, found \(node.kind)") }
            guard i >= 0, i < blobs.count else { throw mismatch(path, "tensor \(i) of \(blobs.count)") }
            switch blobs[i] {
            case .f32(let v) where T.self == [Float].self: return v as! T
            case .f64(let v) where T.self == [Double].self: return v as! T
            case .i64(let v) where T.self == [Int].self: return v as! T
            case .bytes(let v) where T.self == Data.self: return Data(v) as! T
            default: throw mismatch(path, "tensor \(i) is \(blobs[i].dtype), not the \(T.self) expected")
            }
        }
        return try T(from: ArchiveTreeDecoder(node: node, blobs: blobs, codingPath: path))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let o) = node else { throw Self.mismatch(codingPath, "expected an object, found \(node.kind)") }
        return KeyedDecodingContainer(ArchiveKeyedDecoder<Key>(members: o, blobs: blobs, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .array(let a) = node else { throw Self.mismatch(codingPath, "expected an array, found \(node.kind)") }
        return ArchiveUnkeyedDecoder(items: a, blobs: blobs, codingPath: codingPath)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer {
        ArchiveSingleDecoder(node: node, blobs: blobs, codingPath: codingPath)
    }
}

/// Scalars from archive nodes, refusing what does not fit the type exactly.
struct ArchiveSingleDecoder: SingleValueDecodingContainer {
    let node: ArchiveNode
    let blobs: [ArchiveBlob]
    let codingPath: [CodingKey]

    private func fail(_ what: String) -> StateArchiveError { ArchiveTreeDecoder.mismatch(codingPath, "expected \(what), found \(node.kind)") }

    private func integer<I: FixedWidthInteger>(_ t: I.Type) throws -> I {
        switch node {
        case .int(let v): if let r = I(exactly: v) { return r }
        case .string(let s): if let r = I(s) { return r }  // an integer beyond ±2^53
        default: break
        }
        throw fail("an integer fitting \(I.self)")
    }

    private func real<F: LosslessStringConvertible>(_ t: F.Type) throws -> F {
        guard case .string(let s) = node, let v = F(s) else { throw fail("a \(F.self)") }
        return v
    }

    func decodeNil() -> Bool { node == .null }
    func decode(_ t: Bool.Type) throws -> Bool { guard case .bool(let b) = node else { throw fail("a bool") }; return b }
    func decode(_ t: String.Type) throws -> String { guard case .string(let s) = node else { throw fail("a string") }; return s }
    func decode(_ t: Double.Type) throws -> Double { try real(t) }
    func decode(_ t: Float.Type) throws -> Float { try real(t) }
    func decode(_ t: Int.Type) throws -> Int { try integer(t) }
    func decode(_ t: Int8.Type) throws -> Int8 { try integer(t) }
    func decode(_ t: Int16.Type) throws -> Int16 { try integer(t) }
    func decode(_ t: Int32.Type) throws -> Int32 { try integer(t) }
    func decode(_ t: Int64.Type) throws -> Int64 { try integer(t) }
    func decode(_ t: UInt.Type) throws -> UInt { try integer(t) }
    func decode(_ t: UInt8.Type) throws -> UInt8 { try integer(t) }
    func decode(_ t: UInt16.Type) throws -> UInt16 { try integer(t) }
    func decode(_ t: UInt32.Type) throws -> UInt32 { try integer(t) }
    func decode(_ t: UInt64.Type) throws -> UInt64 { try integer(t) }
    func decode<T: Decodable>(_ t: T.Type) throws -> T { try ArchiveTreeDecoder.take(t, node, blobs: blobs, path: codingPath) }
}

struct ArchiveKeyedDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: ArchiveNode]
    let blobs: [ArchiveBlob]
    let codingPath: [CodingKey]

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }
    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func node(_ key: Key) throws -> ArchiveNode {
        guard let n = members[key.stringValue] else { throw ArchiveTreeDecoder.mismatch(codingPath + [key], "missing") }
        return n
    }

    private func single(_ key: Key) throws -> ArchiveSingleDecoder {
        ArchiveSingleDecoder(node: try node(key), blobs: blobs, codingPath: codingPath + [key])
    }

    func decodeNil(forKey key: Key) throws -> Bool { try node(key) == .null }
    func decode(_ t: Bool.Type, forKey key: Key) throws -> Bool { try single(key).decode(t) }
    func decode(_ t: String.Type, forKey key: Key) throws -> String { try single(key).decode(t) }
    func decode(_ t: Double.Type, forKey key: Key) throws -> Double { try single(key).decode(t) }
    func decode(_ t: Float.Type, forKey key: Key) throws -> Float { try single(key).decode(t) }
    func decode(_ t: Int.Type, forKey key: Key) throws -> Int { try single(key).decode(t) }
    func decode(_ t: Int8.Type, forKey key: Key) throws -> Int8 { try single(key).decode(t) }
    func decode(_ t: Int16.Type, forKey key: Key) throws -> Int16 { try single(key).decode(t) }
    func decode(_ t: Int32.Type, forKey key: Key) throws -> Int32 { try single(key).decode(t) }
    func decode(_ t: Int64.Type, forKey key: Key) throws -> Int64 { try single(key).decode(t) }
    func decode(_ t: UInt.Type, forKey key: Key) throws -> UInt { try single(key).decode(t) }
    func decode(_ t: UInt8.Type, forKey key: Key) throws -> UInt8 { try single(key).decode(t) }
    func decode(_ t: UInt16.Type, forKey key: Key) throws -> UInt16 { try single(key).decode(t) }
    func decode(_ t: UInt32.Type, forKey key: Key) throws -> UInt32 { try single(key).decode(t) }
    func decode(_ t: UInt64.Type, forKey key: Key) throws -> UInt64 { try single(key).decode(t) }
    func decode<T: Decodable>(_ t: T.Type, forKey key: Key) throws -> T {
        try ArchiveTreeDecoder.take(t, try node(key), blobs: blobs, path: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ArchiveTreeDecoder(node: try node(key), blobs: blobs, codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try ArchiveTreeDecoder(node: try node(key), blobs: blobs, codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder {
        ArchiveTreeDecoder(node: members["super"] ?? .null, blobs: blobs, codingPath: codingPath)
    }

    func superDecoder(forKey key: Key) throws -> Decoder {
        ArchiveTreeDecoder(node: members[key.stringValue] ?? .null, blobs: blobs, codingPath: codingPath + [key])
    }
}

struct ArchiveUnkeyedDecoder: UnkeyedDecodingContainer {
    let items: [ArchiveNode]
    let blobs: [ArchiveBlob]
    let codingPath: [CodingKey]
    var currentIndex = 0

    init(items: [ArchiveNode], blobs: [ArchiveBlob], codingPath: [CodingKey]) {
        self.items = items
        self.blobs = blobs
        self.codingPath = codingPath
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private struct Index: CodingKey {
        var intValue: Int?
        var stringValue: String { "\(intValue!)" }
        init(_ i: Int) { intValue = i }
        init?(stringValue: String) { nil }
        init?(intValue: Int) { self.intValue = intValue }
    }

    private mutating func next() throws -> (ArchiveNode, [CodingKey]) {
        let path = codingPath + [Index(currentIndex)]
        guard !isAtEnd else { throw ArchiveTreeDecoder.mismatch(path, "past the end of an array of \(items.count)") }
        defer { currentIndex += 1 }
        return (items[currentIndex], path)
    }

    private mutating func single() throws -> ArchiveSingleDecoder {
        let (n, p) = try next()
        return ArchiveSingleDecoder(node: n, blobs: blobs, codingPath: p)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ t: Bool.Type) throws -> Bool { try single().decode(t) }
    mutating func decode(_ t: String.Type) throws -> String { try single().decode(t) }
    mutating func decode(_ t: Double.Type) throws -> Double { try single().decode(t) }
    mutating func decode(_ t: Float.Type) throws -> Float { try single().decode(t) }
    mutating func decode(_ t: Int.Type) throws -> Int { try single().decode(t) }
    mutating func decode(_ t: Int8.Type) throws -> Int8 { try single().decode(t) }
    mutating func decode(_ t: Int16.Type) throws -> Int16 { try single().decode(t) }
    mutating func decode(_ t: Int32.Type) throws -> Int32 { try single().decode(t) }
    mutating func decode(_ t: Int64.Type) throws -> Int64 { try single().decode(t) }
    mutating func decode(_ t: UInt.Type) throws -> UInt { try single().decode(t) }
    mutating func decode(_ t: UInt8.Type) throws -> UInt8 { try single().decode(t) }
    mutating func decode(_ t: UInt16.Type) throws -> UInt16 { try single().decode(t) }
    mutating func decode(_ t: UInt32.Type) throws -> UInt32 { try single().decode(t) }
    mutating func decode(_ t: UInt64.Type) throws -> UInt64 { try single().decode(t) }
    mutating func decode<T: Decodable>(_ t: T.Type) throws -> T {
        let (n, p) = try next()
        return try ArchiveTreeDecoder.take(t, n, blobs: blobs, path: p)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (n, p) = try next()
        return try ArchiveTreeDecoder(node: n, blobs: blobs, codingPath: p).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        let (n, p) = try next()
        return try ArchiveTreeDecoder(node: n, blobs: blobs, codingPath: p).unkeyedContainer()
    }

    mutating func superDecoder() throws -> Decoder {
        let (n, p) = try next()
        return ArchiveTreeDecoder(node: n, blobs: blobs, codingPath: p)
    }
}
