import ArgumentParser
import CTurboJPEG
import Foundation
import TTADProtocol
import TTADScenario
import TTADZMQ

/// Publishes a drifting Fashion-MNIST scenario to a daemon as a camera would: one encoded image
/// per sample, the label in the header for evaluation only, id `<domain>|<position>` so
/// `ttad eval` can group by domain, seq = position.
struct StreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Publish a seeded drifting-stream scenario (Fashion-MNIST test split) to a daemon.",
        discussion: """
        Scenarios: clean, single:<corruption>:<severity>, continual (every corruption at \
        --severity, no reset), gradual (severity 1→5→1 per corruption). Compose with --gamma \
        (label-correlated order, Dirichlet γ), --outliers (unknown-class images at a ratio), \
        --long (cycle to at least N samples). Images are 28×28, grey replicated to RGB, sent as \
        raw-u8-hwc [28,28,3] or JPEG (quality 95, 4:4:4). Start `ttad eval` first.
        """)

    @Option(name: .shortAndLong, help: "The daemon's ingest endpoint.")
    var endpoint: String = "tcp://127.0.0.1:7755"

    @Option(help: ArgumentHelp(ScenarioSpec.help))
    var scenario: String = "clean"

    @Option(help: "Severity of every domain of the continual scenario.")
    var severity: Int = 5

    @Option(help: "Label-correlated order: Dirichlet concentration γ (RoTTA uses 0.1).")
    var gamma: Double?

    @Option(help: "Fraction of samples replaced by unknown-class images (bag, ankle boot), in [0, 1).")
    var outliers: Double = 0

    @Option(help: "Cycle the scenario until it holds at least this many samples.")
    var long: Int?

    @Option(help: "Samples per domain (default: one pass over the 8,000 known-class test images).")
    var perDomain: Int?

    @Option(help: "Scenario seed.")
    var seed: UInt64 = 0

    @Option(help: "Samples per second (0 = as fast as the daemon takes them).")
    var rate: Double = 0

    @Option(help: "Stop after this many samples.")
    var limit: Int?

    @Option(help: "Stream id (topic frame; predictions come back on pred/<stream>).")
    var stream: String = "fmnist"

    @Option(help: "Directory of the Fashion-MNIST IDX files.")
    var datasetDir: String = FashionMNIST.defaultDirectory

    @Option(help: "Payload encoding: raw (raw-u8-hwc) or jpeg.")
    var encoding: String = "raw"

    @Flag(help: "Write ids as <domain>@<severity>|<position> so `ttad eval` reports each severity apart (gradual).")
    var severityInId = false

    @Option(help: "Give up when the daemon accepts nothing for this many seconds.")
    var sendTimeout: Double = 60

    @Option(help: "Send queue length (ZMQ_SNDHWM) before back-pressure blocks the sender.")
    var highWaterMark: Int32 = 1000

    mutating func validate() throws {
        _ = try ScenarioSpec(parsing: scenario)
        if !["raw", "jpeg"].contains(encoding) { throw ValidationError("--encoding must be raw or jpeg") }
        if !(0..<1).contains(outliers) { throw ValidationError("--outliers must be in [0, 1)") }
        if rate < 0 { throw ValidationError("--rate must be ≥ 0") }
        if let limit, limit < 1 { throw ValidationError("--limit must be ≥ 1") }
        if let perDomain, perDomain < 1 { throw ValidationError("--per-domain must be ≥ 1") }
        if let long, long < 1 { throw ValidationError("--long must be ≥ 1") }
        if !Corruption.severities.contains(severity) { throw ValidationError("--severity must be 1…5") }
        if sendTimeout <= 0 { throw ValidationError("--send-timeout must be > 0") }
    }

    func makeScenario() throws -> (FashionMNISTSet, Scenario) {
        let set = try FashionMNIST.load(.test, directory: datasetDir)
        let pool = ScenarioPool(labels: set.labels)
        var s = try ScenarioSpec(parsing: scenario).build(pool: pool, samplesPerStep: perDomain, severity: severity, seed: seed)
        if let gamma { s = try s.labelCorrelated(gamma: gamma) }
        if outliers > 0 { s = try s.withOutliers(ratio: outliers) }
        if let long { s = try s.long(minimumSamples: long) }
        return (set, s)
    }

    func run() throws {
        let (set, scenarioValue) = try makeScenario()
        let total = min(scenarioValue.count, limit ?? Int.max)
        let jpeg = encoding == "jpeg" ? try JPEGEncoder() : nil

        StreamInterrupt.install()
        let ctx = try ZMQContext()
        defer { ctx.terminate() }
        let sock = try ZMQSocket(context: ctx, type: .push)
        defer { sock.close() }
        try sock.setLinger(milliseconds: 10_000)
        try sock.setSendHighWaterMark(highWaterMark)
        // PUSH waits for a connected daemon instead of queueing into the void; a short SNDTIMEO
        // lets the loop notice Ctrl-C while the daemon applies back-pressure.
        try sock.setImmediate(true)
        try sock.setSendTimeout(milliseconds: 500)
        try sock.connect(endpoint)

        let encoder = SampleEncoder()
        var progress = ProgressLine(total: total)
        let start = Date()
        var sent = 0
        var stalls = 0
        var header = SampleHeader(id: "", stream: stream, seq: 0, encoding: jpeg == nil ? .rawU8HWC : .jpeg)
        var iterator = scenarioValue.makeIterator()
        loop: while sent < total, !StreamInterrupt.isRequested, let sample = iterator.next() {
            let image = try sample.render(from: set)
            let domain = severityInId && sample.severity > 0 ? "\(sample.domain)@\(sample.severity)" : sample.domain
            header.id = "\(domain)|\(sample.position)"
            header.seq = UInt64(sample.position)
            header.ts = Date().timeIntervalSince1970
            header.shape = SampleShape([image.height, image.width, 3])
            header.label = .index(sample.label)
            let payload = try jpeg?.encode(image) ?? image.pixels
            let frames = encoder.encode(header: header, payload: payload)
            let waitStart = Date()
            var warned = false
            while !(try sock.send(frames)) {
                if StreamInterrupt.isRequested { break loop }
                let waited = Date().timeIntervalSince(waitStart)
                if waited >= sendTimeout {
                    progress.finish()
                    throw StreamClientError("the daemon at \(endpoint) accepted nothing for \(Int(sendTimeout)) s (sent \(sent) samples)")
                }
                if !warned && waited >= 5 {
                    warned = true
                    stalls += 1
                    if progress.enabled { progress.finish() }
                    FileHandle.standardError.write(Data("waiting for the daemon at \(endpoint) (seq \(sample.position))…\n".utf8))
                }
            }
            sent += 1
            progress.update(sent, note: sample.severity > 0 ? "\(sample.domain) s\(sample.severity)" : sample.domain)
            if rate > 0 {
                let wait = start.addingTimeInterval(Double(sent) / rate).timeIntervalSinceNow
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            }
        }
        progress.update(sent, force: true)
        progress.finish()
        let seconds = Date().timeIntervalSince(start)
        let how = StreamInterrupt.isRequested ? "interrupted after" : "sent"
        let speed = String(format: "%.1f s (%.0f/s)", seconds, seconds > 0 ? Double(sent) / seconds : 0)
        FileHandle.standardError.write(Data(
            "\(how) \(sent) of \(total) samples (\(scenario), seed \(seed)) to \(endpoint) in \(speed)\(stalls > 0 ? ", \(stalls) stalls" : "")\n".utf8))
    }
}

/// JPEG encoding of stream images with libjpeg-turbo: quality 95, no chroma subsampling (the
/// images are grey), accurate DCT. One compressor handle, reused.
final class JPEGEncoder {
    private let handle: tjhandle
    let quality: Int32

    init(quality: Int32 = 95) throws {
        guard let h = tjInitCompress() else { throw StreamClientError("tjInitCompress failed") }
        handle = h
        self.quality = quality
    }

    deinit { tjDestroy(handle) }

    func encode(_ img: RGBImage) throws -> [UInt8] {
        var buf: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let rc = img.pixels.withUnsafeBufferPointer { p in
            tjCompress2(handle, p.baseAddress, Int32(img.width), 0, Int32(img.height), Int32(TJPF_RGB.rawValue),
                        &buf, &size, Int32(TJSAMP_444.rawValue), quality, Int32(TJFLAG_ACCURATEDCT))
        }
        defer { if buf != nil { tjFree(buf) } }
        guard rc == 0, let out = buf else {
            throw StreamClientError("JPEG encoding failed: \(String(cString: tjGetErrorStr2(handle)))")
        }
        return Array(UnsafeBufferPointer(start: out, count: Int(size)))
    }
}

/// A runtime failure of `ttad stream` / `ttad eval` (printed without the usage text).
struct StreamClientError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
