import FuzzSupport
import TTADProtocol

// A whole input message as the ingest socket delivers it. Input layout (FuzzInput): one mode
// byte, then the topic and header frames as length-prefixed fields, the rest is the payload.
// The mode byte picks the frame count (mostly 3, sometimes 0–5 as a broken producer sends) and
// whether the daemon runs in embedding mode (an expected dimension of 4) or image mode.

let imageMode = SampleDecoder()
let embeddingMode = SampleDecoder(limits: ProtocolLimits(expectedEmbeddingDim: 4))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let topic = input.field(), header = input.field(), payload = input.rest()
    let decoder = mode & 1 == 0 ? imageMode : embeddingMode
    if mode >= 0xF0 {
        // Wrong frame counts: the decoder words the rejection from whatever frames there are.
        let frames = Array([topic, header, payload, payload, payload].prefix(Int(mode & 0x0F) % 6))
        switch decoder.decode(frames: frames) {
        case .success: fuzzCheck(frames.count == 3, "accepted a \(frames.count)-frame message")
        case .failure(let r): fuzzCheck(frames.count == 3 || r.reason == .frameCount, "\(frames.count) frames rejected as \(r.reason)")
        }
        return 0
    }
    MessageChecks.run(decoder, topic: topic, header: header, payload: payload)
    return 0
}
