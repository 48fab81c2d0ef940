import TTADProtocol
import XCTest

/// Seeded random mutations of valid messages: the decoder must never crash; it either accepts
/// (and then the accepted header re-encodes to an equivalent message) or rejects.
final class FuzzTests: XCTestCase {
    func testRandomMutationsNeverCrash() throws {
        var rng = SplitMix64(seed: 0xC0FFEE)
        let decoder = SampleDecoder(limits: ProtocolLimits(maxHeaderBytes: 512, maxPayloadBytes: 4096))
        let encoder = SampleEncoder()
        let seeds: [[[UInt8]]] = [
            validEmbeddingFrames(dim: 8, extraHeader: #","extra":{"a":[1,2.5e-3,"\u00e9\ud83d\ude00"],"b":null}"#),
            encoder.encode(header: SampleHeader(id: "img", stream: "cam1", seq: 3, encoding: .rawU8HWC, shape: [2, 2, 3], label: .name("coat")),
                           payload: Array(0..<12)),
            encoder.encode(header: SampleHeader(id: "j", stream: "cam1", seq: 4, ts: 12.5, encoding: .jpeg), payload: jpegMagic + [1, 2]),
        ]
        var accepted = 0, rejected = 0
        var reasons = Set<RejectReason>()
        let interesting: [UInt8] = Array("{}[]\":,\\-+.0123456789eEnulltrufasu \t\u{7F}".utf8) + [0x00, 0x80, 0xC3, 0xED, 0xF4, 0xFF]
        for i in 0..<2000 {
            var frames = seeds[i % seeds.count]
            let mutations = 1 + Int(rng.next() % 4)
            for _ in 0..<mutations {
                guard !frames.isEmpty else { break }
                var f = Int(rng.next() % 10) < 7 ? 1 : Int(rng.next() % 3) // mostly the header
                if f >= frames.count { f = frames.count - 1 }
                var b = frames[f]
                switch rng.next() % 7 {
                case 0 where !b.isEmpty: // flip bits
                    b[Int(rng.next() % UInt64(b.count))] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
                case 1 where !b.isEmpty: // replace with an interesting byte
                    b[Int(rng.next() % UInt64(b.count))] = interesting[Int(rng.next() % UInt64(interesting.count))]
                case 2: // insert
                    b.insert(interesting[Int(rng.next() % UInt64(interesting.count))], at: Int(rng.next() % UInt64(b.count + 1)))
                case 3 where !b.isEmpty: // delete
                    b.remove(at: Int(rng.next() % UInt64(b.count)))
                case 4 where !b.isEmpty: // truncate
                    b.removeLast(Int(rng.next() % UInt64(b.count)))
                case 5 where b.count > 2: // duplicate a slice
                    let a = Int(rng.next() % UInt64(b.count)), n = min(b.count - a, 1 + Int(rng.next() % 16))
                    b.insert(contentsOf: b[a..<(a + n)], at: a)
                case 6 where rng.next() % 8 == 0: // change frame count
                    if rng.next() % 2 == 0 { frames.append([1]) } else { frames.removeLast() }
                default:
                    break
                }
                if f < frames.count { frames[f] = b } // (frame-count mutations may have removed it)
            }
            switch decoder.decode(frames: frames) {
            case .success(let s):
                accepted += 1
                // Re-encoding an accepted header yields a message that decodes to the same header.
                let again = try decoder.decode(frames: encoder.encode(header: s.header, payload: s.payload)).get()
                XCTAssertEqual(again.header, s.header)
            case .failure(let r):
                rejected += 1
                reasons.insert(r.reason)
                XCTAssertFalse(r.detail.isEmpty)
            }
        }
        XCTAssertEqual(accepted + rejected, 2000)
        XCTAssertGreaterThan(rejected, 1000)
        XCTAssertGreaterThan(reasons.count, 5, "\(reasons)")
    }
}
