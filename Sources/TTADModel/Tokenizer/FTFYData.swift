/// The generated tables of `FTFYTables`, parsed once (Swift initialises static lets lazily and
/// thread-safely).
enum FTFYData {
    /// Named entities ftfy decodes, keyed by the name between "&" and ";" inclusive of ";".
    static let htmlEntities: [String: [Unicode.Scalar]] = parseMap(FTFYTables.htmlEntities) { $0 }
    /// Numeric references html.unescape replaces by something other than the code point itself.
    static let invalidCharrefs: [UInt32: [Unicode.Scalar]] = parseMap(FTFYTables.invalidCharrefs) { UInt32($0, radix: 16)! }
    /// Numeric references html.unescape decodes to nothing.
    static let invalidCodepoints: Set<UInt32> = parseSet(FTFYTables.invalidCodepoints)
    static let widthMap: [UInt32: [Unicode.Scalar]] = parseMap(FTFYTables.widthMap) { UInt32($0, radix: 16)! }
    static let ligatures: [UInt32: [Unicode.Scalar]] = parseMap(FTFYTables.ligatures) { UInt32($0, radix: 16)! }
    static let c1Controls: [UInt32: [Unicode.Scalar]] = parseMap(FTFYTables.c1Controls) { UInt32($0, radix: 16)! }
    static let controlCharacters: Set<UInt32> = parseSet(FTFYTables.controlCharacters)

    private static func scalars(_ hex: Substring) -> [Unicode.Scalar] {
        hex.split(separator: " ").map { Unicode.Scalar(UInt32($0, radix: 16)!)! }
    }

    private static func parseMap<Key: Hashable>(_ table: String, key: (String) -> Key) -> [Key: [Unicode.Scalar]] {
        var map: [Key: [Unicode.Scalar]] = [:]
        for line in table.split(separator: "\n") {
            let colon = line.lastIndex(of: ":")!
            map[key(String(line[..<colon]))] = scalars(line[line.index(after: colon)...])
        }
        return map
    }

    private static func parseSet(_ table: String) -> Set<UInt32> {
        Set(table.split(separator: " ").map { UInt32($0, radix: 16)! })
    }
}
