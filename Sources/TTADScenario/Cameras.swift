/// Several cameras' streams interleaved, the shape of one daemon serving a camera group: each
/// camera has its own sequence of domains, some stay clean throughout, one returns to a
/// corruption it saw before. What `scope = "stream"` is measured on.
public struct CameraScenario: Sequence, Sendable {
    public struct Camera: Sendable {
        /// Part of the stream id and of every sample id (`<name>/<domain>|<position>`).
        public let name: String
        public let scenario: Scenario

        public init(name: String, scenario: Scenario) {
            self.name = name
            self.scenario = scenario
        }
    }

    public let cameras: [Camera]
    public let seed: UInt64

    /// The standard group: two clean cameras, one that goes fog → contrast → fog, one through the
    /// noises and one through the blurs, each domain `samplesPerStep` long (one pass over the
    /// known pool by default) at `severity`.
    public static func standard(pool: ScenarioPool, samplesPerStep: Int? = nil, severity: Int = 5, seed: UInt64) throws -> CameraScenario {
        let clean = try ScenarioStep(nil, severity: 0)
        func steps(_ cs: [Corruption]) throws -> [ScenarioStep] { try cs.map { try ScenarioStep($0, severity: severity) } }
        let lineup: [(String, [ScenarioStep])] = [
            ("cam-a", [clean, clean, clean]),
            ("cam-b", [clean, clean, clean]),
            ("cam-c", try steps([.fog, .contrast, .fog])),
            ("cam-d", try steps([.gaussianNoise, .shotNoise, .impulseNoise])),
            ("cam-e", try steps([.defocusBlur, .motionBlur, .pixelate])),
        ]
        return CameraScenario(cameras: try lineup.enumerated().map { i, c in
            Camera(name: c.0, scenario: try Scenario(pool: pool, steps: c.1, samplesPerStep: samplesPerStep,
                                                     seed: ScenarioRNG.derive(seed, 5, UInt64(i))))
        }, seed: seed)
    }

    public init(cameras: [Camera], seed: UInt64) {
        self.cameras = cameras
        self.seed = seed
    }

    public var count: Int { cameras.reduce(0) { $0 + $1.scenario.count } }
    public var underestimatedCount: Int { count }

    public func makeIterator() -> CameraIterator { CameraIterator(self) }
}

/// One sample of a camera group: which camera, its position in the interleaved stream, and the
/// sample (whose `position` is the camera's own, its sequence number).
public struct CameraSample: Sendable, Equatable {
    public let camera: Int
    public let position: Int
    public let sample: ScenarioSample
}

/// Interleaves the cameras at random (seeded): each next sample comes from a camera chosen
/// uniformly among those with samples left, so the streams advance at about the same rate and
/// their interleaving is irregular, as real cameras' arrivals are.
public struct CameraIterator: IteratorProtocol, Sendable {
    private var iterators: [ScenarioIterator]
    private var left: [Int]
    private var rng: ScenarioRNG
    private var position = 0

    init(_ s: CameraScenario) {
        iterators = s.cameras.map { $0.scenario.makeIterator() }
        left = s.cameras.map(\.scenario.count)
        rng = ScenarioRNG(seed: ScenarioRNG.derive(s.seed, 6))
    }

    public mutating func next() -> CameraSample? {
        let remaining = left.indices.filter { left[$0] > 0 }
        guard !remaining.isEmpty else { return nil }
        let c = remaining[rng.below(remaining.count)]
        guard let sample = iterators[c].next() else { return nil }
        left[c] -= 1
        defer { position += 1 }
        return CameraSample(camera: c, position: position, sample: sample)
    }
}
