/// Accuracy of one stream of a camera group: every domain whose name is `<stream>/<domain>`
/// (the ids `ttad stream --scenario cameras` sends), taken together.
public struct StreamStat: Sendable, Equatable, Codable {
    public var stream: String
    public var samples: Int
    public var known: Int
    public var correct: Int
    public var accuracy: Double?

    /// One entry per stream named in the domains, in order of first appearance; empty when no
    /// domain names a stream (a single-stream run).
    public static func group(_ domains: [DomainStat]) -> [StreamStat] {
        var out: [StreamStat] = []
        var index: [String: Int] = [:]
        for d in domains {
            guard let slash = d.domain.firstIndex(of: "/") else { continue }
            let name = String(d.domain[..<slash])
            let i = index[name] ?? {
                out.append(StreamStat(stream: name, samples: 0, known: 0, correct: 0, accuracy: nil))
                index[name] = out.count - 1
                return out.count - 1
            }()
            out[i].samples += d.samples
            out[i].known += d.known
            out[i].correct += d.correct
        }
        for i in out.indices { out[i].accuracy = Metrics.ratio(out[i].correct, out[i].known) }
        return out
    }
}
