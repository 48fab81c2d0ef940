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

    @OptionGroup var scenario: ScenarioOptions

    @Option(help: "Samples per second (0 = as fast as the daemon takes them).")
    var rate: Double = 0

    @Option(help: "Give up when the daemon accepts nothing for this many seconds.")
    var sendTimeout: Double = 60

    @Option(help: "Send queue length (ZMQ_SNDHWM) before back-pressure blocks the sender.")
    var highWaterMark: Int32 = 1000

    mutating func validate() throws {
        if rate < 0 { throw ValidationError("--rate must be ≥ 0") }
        if sendTimeout <= 0 { throw ValidationError("--send-timeout must be > 0") }
    }

    func run() throws {
        let (set, plan) = try scenario.makePlan()
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

        let sender = ScenarioSender(options: scenario, rate: rate, sendTimeout: sendTimeout, endpoint: endpoint)
        let o = try sender.send(set: set, plan: plan, over: sock)
        let how = o.interrupted ? "interrupted after" : "sent"
        let speed = String(format: "%.1f s (%.0f/s)", o.seconds, o.seconds > 0 ? Double(o.sent) / o.seconds : 0)
        FileHandle.standardError.write(Data(
            "\(how) \(o.sent) of \(o.total) samples (\(scenario.scenario), seed \(scenario.seed)) to \(endpoint) in \(speed)\(o.stalls > 0 ? ", \(o.stalls) stalls" : "")\n".utf8))
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
