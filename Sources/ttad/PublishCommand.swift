import ArgumentParser
import Foundation
import TTADEngine
import TTADProtocol
import TTADZMQ

/// A real client: sends samples from files to a daemon, as a camera or an embedding service
/// would. Used by users to try a daemon and by the tests.
struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Send samples from files to a daemon's ingest endpoint.",
        discussion: """
        Each FILE is one sample (jpeg, png or raw bytes). With --embeddings, each row of a .npy \
        matrix [N, D] is one f32-embedding sample. Sequence numbers count up from --start-seq.
        """)

    @Option(name: .shortAndLong, help: "Ingest endpoint, e.g. tcp://127.0.0.1:7755.")
    var endpoint: String

    @Option(help: "Socket pattern: push (daemon PULLs) or pub (daemon SUBscribes).")
    var pattern: String = "push"

    @Flag(help: "Bind the endpoint instead of connecting to it.")
    var bind = false

    @Option(help: "Stream id (the topic frame).")
    var stream: String = "default"

    @Option(help: "Encoding of the FILE payloads: jpeg, png, raw-u8-hwc.")
    var encoding: String?

    @Option(help: "Shape for raw-u8-hwc, as H,W,C.")
    var shape: String?

    @Option(help: "A .npy matrix [N, D] of embeddings: one f32-embedding sample per row.")
    var embeddings: String?

    @Option(help: "Labels, one per line (class name or index), matched to samples in order.")
    var labels: String?

    @Option(help: "Send the samples this many times in a row (sequence numbers keep counting).")
    var repeats: Int = 1

    @Option(help: "Samples per second (0 = as fast as possible).")
    var rate: Double = 0

    @Option(help: "First sequence number.")
    var startSeq: UInt64 = 0

    @Option(help: "Seconds to wait after connecting (PUB/SUB slow joiner) and before closing.")
    var settle: Double = 0.3

    @Argument(help: "Sample files.")
    var files: [String] = []

    mutating func validate() throws {
        if embeddings == nil && files.isEmpty { throw ValidationError("give sample FILEs or --embeddings FILE.npy") }
        if embeddings != nil && !files.isEmpty { throw ValidationError("--embeddings and FILEs are exclusive") }
        if !files.isEmpty && encoding == nil { throw ValidationError("--encoding is required with FILEs") }
        if !["push", "pub"].contains(pattern) { throw ValidationError("--pattern must be push or pub") }
        if repeats < 1 { throw ValidationError("--repeats must be ≥ 1") }
    }

    func run() throws {
        let samples = try loadSamples()
        let labelList = try labels.map { try String(contentsOfFile: $0, encoding: .utf8).split(separator: "\n").map(String.init) }
        let ctx = try ZMQContext()
        defer { ctx.terminate() }
        let sock = try ZMQSocket(context: ctx, type: pattern == "push" ? .push : .pub)
        defer { sock.close() }
        try sock.setLinger(milliseconds: 5000)
        try sock.setSendHighWaterMark(pattern == "pub" ? 0 : 1000)
        // PUSH waits for a connected daemon (within SNDTIMEO) instead of queueing into the void.
        if pattern == "push" && !bind {
            try sock.setImmediate(true)
            try sock.setSendTimeout(milliseconds: 10_000)
        }
        if bind { try sock.bind(endpoint) } else { try sock.connect(endpoint) }
        if settle > 0 { Thread.sleep(forTimeInterval: settle) }

        var seq = startSeq
        let start = Date()
        var sent = 0
        for _ in 0..<repeats {
            for (i, s) in samples.enumerated() {
                var header = SampleHeader(id: "\(stream)-\(seq)", stream: stream, seq: seq, ts: Date().timeIntervalSince1970,
                                          encoding: s.encoding, shape: s.shape.map { SampleShape($0) })
                if let l = labelList, i < l.count {
                    header.label = Int(l[i]).map { SampleLabel.index($0) } ?? .name(l[i])
                }
                let frames = SampleEncoder().encode(header: header, payload: s.payload)
                guard try sock.send(frames) else {
                    throw ValidationError("no daemon accepted sample seq \(seq) at \(endpoint) within 10 s")
                }
                seq += 1
                sent += 1
                if rate > 0 {
                    let due = start.addingTimeInterval(Double(sent) / rate)
                    let wait = due.timeIntervalSinceNow
                    if wait > 0 { Thread.sleep(forTimeInterval: wait) }
                }
            }
        }
        if settle > 0 { Thread.sleep(forTimeInterval: settle) }
        FileHandle.standardError.write(Data("sent \(sent) samples to \(endpoint), seq \(startSeq)..<\(seq)\n".utf8))
    }

    private struct Payload {
        var encoding: SampleEncoding
        var shape: [Int]?
        var payload: [UInt8]
    }

    private func loadSamples() throws -> [Payload] {
        if let path = embeddings {
            let t = try NPY.read(path: path)
            let (shape, data) = (t.shape, t.storage)
            guard shape.count == 2, shape[0] > 0, shape[1] > 0 else {
                throw ValidationError("\(path): expected a [N, D] matrix, got shape \(shape)")
            }
            let d = shape[1]
            return (0..<shape[0]).map { r in
                var bytes = [UInt8](repeating: 0, count: 4 * d)
                for j in 0..<d {
                    let bits = data[r * d + j].bitPattern.littleEndian
                    withUnsafeBytes(of: bits) { b in
                        for k in 0..<4 { bytes[4 * j + k] = b[k] }
                    }
                }
                return Payload(encoding: .f32Embedding, shape: [d], payload: bytes)
            }
        }
        guard let enc = SampleEncoding(rawValue: encoding ?? "") else {
            throw ValidationError("--encoding must be one of \(SampleEncoding.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let shapeList = try shape.map { s -> [Int] in
            let parts = s.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, parts.count <= SampleShape.maxRank else { throw ValidationError("--shape must look like 224,224,3") }
            return parts
        }
        return try files.map { f in
            guard let d = FileManager.default.contents(atPath: f) else { throw ValidationError("cannot read \(f)") }
            return Payload(encoding: enc, shape: shapeList, payload: Array(d))
        }
    }
}
