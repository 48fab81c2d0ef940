import Dispatch
import Foundation
import Synchronization
import TTADScenario

/// Ctrl-C for the client commands (`stream`, `eval`): the first SIGINT asks the loop to stop
/// cleanly (flush, write reports), a second one exits at once.
enum StreamInterrupt {
    static let requested = Atomic<Bool>(false)
    nonisolated(unsafe) private static var source: DispatchSourceSignal?

    static var isRequested: Bool { requested.load(ordering: .relaxed) }

    static func install() {
        guard source == nil else { return }
        signal(SIGINT, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        s.setEventHandler {
            if requested.exchange(true, ordering: .relaxed) { exit(130) }
        }
        s.resume()
        source = s
    }
}

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
struct ProgressLine {
    let total: Int
    let enabled: Bool
    private var lastDraw = 0.0
    private let start = Date()

    init(total: Int, enabled: Bool = isatty(2) != 0) {
        self.total = total
        self.enabled = enabled
    }

    mutating func update(_ done: Int, note: String = "", force: Bool = false) {
        guard enabled else { return }
        let now = Date().timeIntervalSince(start)
        guard force || now - lastDraw >= 0.2 else { return }
        lastDraw = now
        let frac = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let width = 24
        let filled = Int((frac * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let rate = now > 0 ? Double(done) / now : 0
        var eta = ""
        if rate > 0 && done < total {
            let s = Int(Double(total - done) / rate)
            eta = String(format: " ETA %d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        }
        let line = "\r[\(bar)] " + String(format: "%5.1f%% %d/%d %.0f/s", 100 * frac, done, total, rate) + eta + " " + note
        FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

/// `--scenario` values of `ttad stream`: `clean`, `single:<corruption>[:<severity>]`,
/// `continual`, `gradual`, `cameras` (a camera group, one stream per camera: `CameraScenario`).
enum ScenarioSpec: Equatable {
    case clean
    case single(Corruption, Int)
    case continual
    case gradual
    case cameras

    static let help = "clean | single:<corruption>:<severity> | continual | gradual | cameras (five cameras on streams <stream>-cam-a…e: "
        + "two clean, fog→contrast→fog, the noises, the blurs; three domains each); corruptions: "
        + Corruption.allCases.map(\.rawValue).joined(separator: ", ")

    init(parsing s: String) throws {
        let parts = s.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts[0] {
        case "clean" where parts.count == 1: self = .clean
        case "continual" where parts.count == 1: self = .continual
        case "gradual" where parts.count == 1: self = .gradual
        case "cameras" where parts.count == 1: self = .cameras
        case "single" where parts.count == 2 || parts.count == 3:
            guard let c = Corruption(rawValue: parts[1]) else {
                throw ScenarioError.invalid("unknown corruption '\(parts[1])' (one of \(Corruption.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let sev = parts.count == 3 ? Int(parts[2]) : 5
            guard let sev, Corruption.severities.contains(sev) else {
                throw ScenarioError.invalid("severity must be 1…5 in '\(s)'")
            }
            self = .single(c, sev)
        default:
            throw ScenarioError.invalid("unknown scenario '\(s)' (\(Self.help))")
        }
    }

    func build(pool: ScenarioPool, samplesPerStep: Int?, severity: Int, seed: UInt64) throws -> Scenario {
        switch self {
        case .clean: return try .clean(pool: pool, samplesPerStep: samplesPerStep, seed: seed)
        case .single(let c, let s): return try .single(c, severity: s, pool: pool, samplesPerStep: samplesPerStep, seed: seed)
        case .continual: return try .continual(severity: severity, pool: pool, samplesPerStep: samplesPerStep, seed: seed)
        case .gradual: return try .gradual(pool: pool, samplesPerStep: samplesPerStep, seed: seed)
        case .cameras: throw ScenarioError.invalid("cameras is a group of streams, not one scenario")
        }
    }
}
