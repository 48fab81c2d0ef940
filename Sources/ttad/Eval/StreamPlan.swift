import TTADScenario

/// What `ttad stream` and `ttad eval --config` send: one scenario on one stream, or a camera
/// group (`--scenario cameras`) on one stream per camera, `<stream>-<camera>`.
enum StreamPlan: Sequence {
    case single(Scenario, stream: String, severityInId: Bool)
    case cameras(CameraScenario, stream: String, severityInId: Bool)

    /// One sample as sent: its stream, sequence number (its position in its own stream) and id
    /// (`<domain>|<position>`; `<camera>/<domain>|<position>` for a camera group, so `ttad eval`
    /// reports each camera's domains and each camera apart).
    struct Planned {
        var stream: String
        var seq: UInt64
        var id: String
        var sample: ScenarioSample
    }

    var count: Int {
        switch self {
        case .single(let s, _, _): return s.count
        case .cameras(let c, _, _): return c.count
        }
    }

    /// The single scenario (what `--resume` can continue); nil for a camera group.
    var scenario: Scenario? {
        if case .single(let s, _, _) = self { return s }
        return nil
    }

    /// Every stream id the plan sends on.
    var streams: [String] {
        switch self {
        case .single(_, let stream, _): return [stream]
        case .cameras(let c, let stream, _): return c.cameras.map { "\(stream)-\($0.name)" }
        }
    }

    static func domain(of sample: ScenarioSample, severityInId: Bool) -> String {
        severityInId && sample.severity > 0 ? "\(sample.domain)@\(sample.severity)" : sample.domain
    }

    func makeIterator() -> AnyIterator<Planned> {
        switch self {
        case .single(let s, let stream, let severityInId):
            var it = s.makeIterator()
            return AnyIterator {
                guard let x = it.next() else { return nil }
                return Planned(stream: stream, seq: UInt64(x.position),
                               id: "\(Self.domain(of: x, severityInId: severityInId))|\(x.position)", sample: x)
            }
        case .cameras(let c, let stream, let severityInId):
            var it = c.makeIterator()
            let names = c.cameras.map(\.name)
            return AnyIterator {
                guard let x = it.next() else { return nil }
                let name = names[x.camera]
                return Planned(stream: "\(stream)-\(name)", seq: UInt64(x.sample.position),
                               id: "\(name)/\(Self.domain(of: x.sample, severityInId: severityInId))|\(x.position)", sample: x.sample)
            }
        }
    }
}
