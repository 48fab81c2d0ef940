import FuzzSupport
import TTADProtocol

// The header frame alone: SampleDecoder's header scanner on arbitrary bytes, under the topic
// `cam-1`. To get past the header into the accept path (and its round-trip check), the payload
// is made to fit whatever shape and encoding the general JSONReader finds in the same bytes.
// JSONReader itself (also what `ttad subscribe` parses daemon output with) runs on every input.

let decoder = SampleDecoder()
let embeddingDecoder = SampleDecoder(limits: ProtocolLimits(expectedEmbeddingDim: 4))
let reader = JSONReader(maxDepth: ProtocolLimits.default.maxHeaderDepth, maxBytes: ProtocolLimits.default.maxHeaderBytes)
let topic = Array("cam-1".utf8)

/// A payload that matches the header's shape and encoding when they are readable (bounded so
/// the fuzzer does not spend its time allocating), else empty.
func fittingPayload(_ json: JSONValue?) -> [UInt8] {
    guard let json, let encoding = json["encoding"]?.stringValue else { return [] }
    switch encoding {
    case "jpeg": return [0xFF, 0xD8, 0xFF, 0xE0]
    case "png": return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    default: break
    }
    guard let dims = json["shape"]?.arrayValue else { return [] }
    var n: Int64 = 1
    for d in dims {
        guard let v = d.intValue, v >= 0, v <= 1 << 16 else { return [] }
        n *= v
        if n > 1 << 16 { return [] }
    }
    if encoding == "f32-embedding" {
        // Non-zero, finite values so the accept path is reachable.
        return (0..<Int(n)).flatMap { _ in [0x00, 0x00, 0x80, 0x3F] as [UInt8] }
    }
    return [UInt8](repeating: 7, count: Int(n))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let header = Array(UnsafeBufferPointer(start: data, count: size))
    let json = try? reader.parse(header)
    let payload = fittingPayload(json)
    MessageChecks.run(decoder, topic: topic, header: header, payload: payload)
    MessageChecks.run(embeddingDecoder, topic: topic, header: header, payload: payload)
    // The header scanner and JSONReader share a grammar: a header the decoder accepts is JSON.
    if case .success = decoder.decode(topic: topic, header: header, payload: payload) {
        fuzzCheck(json != nil, "the decoder accepted a header JSONReader rejects")
    }
    return 0
}
