/// Seeded, composable test streams over a labelled image pool: what `ttad stream` publishes and
/// `ttad eval` scores. A scenario is a list of steps (a domain = corruption at a severity, each
/// `samplesPerStep` long), an order of labels inside each step, an outlier mix and a number of
/// cycles. Every random choice comes from `seed`, so a scenario replays bit for bit.

/// One element of a stream. The label travels with the sample for evaluation only.
public struct ScenarioSample: Sendable, Equatable {
    public let position: Int
    public let imageIndex: Int
    public let label: Int
    /// "clean" or the corruption's ImageNet-C name; per-domain accuracy groups by this.
    public let domain: String
    public let corruption: Corruption?
    /// 1…5, or 0 for clean.
    public let severity: Int
    public let isOutlier: Bool
    /// Seed of this sample's corruption draws, derived from the scenario seed and the position so
    /// any sample can be regenerated on its own.
    public let corruptionSeed: UInt64

    /// The sample's image: image `imageIndex` of `set`, moved to the working resolution (28 px,
    /// native, by default — see `Corruption`), then corrupted.
    public func render(from set: FashionMNISTSet, workingSize: Int = 28) throws -> RGBImage {
        var img = set.rgb(imageIndex)
        if workingSize != img.width || workingSize != img.height {
            img = img.resized(width: workingSize, height: workingSize)
        }
        guard let c = corruption else { return img }
        return try c.apply(to: img, severity: severity, seed: corruptionSeed)
    }
}

/// One domain of a stream: a corruption (nil = clean) at a severity.
public struct ScenarioStep: Sendable, Equatable {
    public let corruption: Corruption?
    public let severity: Int
    public var domain: String { corruption?.rawValue ?? "clean" }

    public init(_ corruption: Corruption?, severity: Int) throws {
        if corruption == nil {
            guard severity == 0 else { throw ScenarioError.invalid("a clean step has severity 0") }
        } else {
            guard Corruption.severities.contains(severity) else { throw CorruptionError.invalidSeverity(severity) }
        }
        self.corruption = corruption
        self.severity = severity
    }
}

/// How labels are ordered inside a step.
public enum LabelOrder: Sendable, Equatable {
    /// A uniform random permutation of the pool: the i.i.d. stream.
    case shuffled
    /// RoTTA's PTTA sampler (`LabelDirichletDomainSequence`): for every class, Dirichlet(γ) over
    /// `classes` slots splits that class's images among the slots; each slot concatenates its
    /// per-class chunks in random order; the slots follow each other. Small γ (RoTTA uses 0.1)
    /// gives long runs of one class; γ → ∞ tends to class-balanced slots.
    case dirichlet(gamma: Double)
}

public enum ScenarioError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    public var description: String {
        switch self { case .invalid(let why): return "invalid scenario: \(why)" }
    }
}

/// Which images a scenario draws from: known-class images (the model's classes) and outliers
/// (unknown classes, bag and ankle boot for Fashion-MNIST).
public struct ScenarioPool: Sendable {
    public let knownIndices: [Int]
    public let knownLabels: [Int]
    public let outlierIndices: [Int]
    public let outlierLabels: [Int]

    public init(labels: [UInt8], outlierClasses: Set<Int> = Set(FashionMNIST.outlierLabels)) {
        var ki = [Int](), kl = [Int](), oi = [Int](), ol = [Int]()
        for (i, l) in labels.enumerated() {
            if outlierClasses.contains(Int(l)) { oi.append(i); ol.append(Int(l)) } else { ki.append(i); kl.append(Int(l)) }
        }
        knownIndices = ki; knownLabels = kl; outlierIndices = oi; outlierLabels = ol
    }
}

public struct Scenario: Sequence, Sendable {
    public let pool: ScenarioPool
    public private(set) var steps: [ScenarioStep]
    public private(set) var samplesPerStep: Int
    public private(set) var order: LabelOrder = .shuffled
    public private(set) var outlierRatio: Double = 0
    public private(set) var cycles: Int = 1
    public let seed: UInt64

    /// A scenario over explicit steps; `samplesPerStep` defaults to one pass over the known pool.
    public init(pool: ScenarioPool, steps: [ScenarioStep], samplesPerStep: Int? = nil, seed: UInt64) throws {
        guard !pool.knownIndices.isEmpty else { throw ScenarioError.invalid("no known-class images") }
        guard !steps.isEmpty else { throw ScenarioError.invalid("no steps") }
        let n = samplesPerStep ?? pool.knownIndices.count
        guard n > 0 else { throw ScenarioError.invalid("samplesPerStep must be positive") }
        self.pool = pool
        self.steps = steps
        self.samplesPerStep = n
        self.seed = seed
    }

    /// Clean images only.
    public static func clean(pool: ScenarioPool, samplesPerStep: Int? = nil, seed: UInt64) throws -> Scenario {
        try Scenario(pool: pool, steps: [ScenarioStep(nil, severity: 0)], samplesPerStep: samplesPerStep, seed: seed)
    }

    /// One corruption at one severity.
    public static func single(_ c: Corruption, severity: Int, pool: ScenarioPool, samplesPerStep: Int? = nil,
                              seed: UInt64) throws -> Scenario {
        try Scenario(pool: pool, steps: [ScenarioStep(c, severity: severity)], samplesPerStep: samplesPerStep, seed: seed)
    }

    /// Every corruption in sequence at one severity (5 by default), no reset between domains:
    /// the continual TTA setting of CoTTA.
    public static func continual(_ corruptions: [Corruption] = Corruption.allCases, severity: Int = 5,
                                 pool: ScenarioPool, samplesPerStep: Int? = nil, seed: UInt64) throws -> Scenario {
        try Scenario(pool: pool, steps: corruptions.map { try ScenarioStep($0, severity: severity) },
                     samplesPerStep: samplesPerStep, seed: seed)
    }

    /// Each corruption with severity ramping 1→5→1 (nine steps per domain), the gradual setting.
    public static func gradual(_ corruptions: [Corruption] = Corruption.allCases, pool: ScenarioPool,
                               samplesPerStep: Int? = nil, seed: UInt64) throws -> Scenario {
        let ramp = [1, 2, 3, 4, 5, 4, 3, 2, 1]
        let steps = try corruptions.flatMap { c in try ramp.map { try ScenarioStep(c, severity: $0) } }
        return try Scenario(pool: pool, steps: steps, samplesPerStep: samplesPerStep, seed: seed)
    }

    /// Same steps, labels ordered by RoTTA's Dirichlet sampler with concentration γ.
    public func labelCorrelated(gamma: Double) throws -> Scenario {
        guard gamma > 0, gamma.isFinite else { throw ScenarioError.invalid("Dirichlet gamma must be > 0") }
        var s = self
        s.order = .dirichlet(gamma: gamma)
        return s
    }

    /// Mixes unknown-class images in: each position is an outlier with probability `ratio`.
    /// Outliers take positions inside a step (the step length counts them), so domain lengths
    /// do not depend on the ratio.
    public func withOutliers(ratio: Double) throws -> Scenario {
        guard ratio >= 0, ratio < 1 else { throw ScenarioError.invalid("outlier ratio must be in [0, 1)") }
        guard ratio == 0 || !pool.outlierIndices.isEmpty else { throw ScenarioError.invalid("no outlier images") }
        var s = self
        s.outlierRatio = ratio
        return s
    }

    /// Repeats the whole step list until the stream holds at least `minimumSamples` (10^6 by
    /// default): the long-horizon setting where slow collapse shows. Each cycle reorders afresh.
    public func long(minimumSamples: Int = 1_000_000) throws -> Scenario {
        guard minimumSamples > 0 else { throw ScenarioError.invalid("minimumSamples must be positive") }
        var s = self
        let perCycle = steps.count * samplesPerStep
        s.cycles = Swift.max(1, (minimumSamples + perCycle - 1) / perCycle)
        return s
    }

    /// Total number of samples the stream yields.
    public var count: Int { cycles * steps.count * samplesPerStep }
    public var underestimatedCount: Int { count }

    public func makeIterator() -> ScenarioIterator { ScenarioIterator(self) }

    /// One ordering of the whole known pool (indices into `pool.knownIndices`).
    func ordering(_ rng: inout ScenarioRNG) -> [Int] {
        switch order {
        case .shuffled:
            var p = Array(0..<pool.knownIndices.count)
            rng.shuffle(&p)
            return p
        case .dirichlet(let gamma):
            // RoTTA's sampler, except that each class's images are shuffled before being split
            // (RoTTA keeps dataset order), so that cycles of a long stream differ.
            let classes = Array(Set(pool.knownLabels)).sorted()
            let slots = Swift.min(classes.count, 100)
            var byClass = [Int: [Int]]()
            for (i, l) in pool.knownLabels.enumerated() { byClass[l, default: []].append(i) }
            var slotChunks = [[[Int]]](repeating: [], count: slots)
            for c in classes {
                var ids = byClass[c]!
                rng.shuffle(&ids)
                let p = rng.dirichlet(gamma, count: slots)
                var cum = 0.0, start = 0
                for s in 0..<slots {
                    cum += p[s]
                    let end = s == slots - 1 ? ids.count : Swift.min(ids.count, Int(cum * Double(ids.count)))
                    slotChunks[s].append(Array(ids[start..<Swift.max(start, end)]))
                    start = Swift.max(start, end)
                }
            }
            var out = [Int]()
            out.reserveCapacity(pool.knownIndices.count)
            for s in 0..<slots {
                var chunks = slotChunks[s]
                rng.shuffle(&chunks)
                for ch in chunks { out.append(contentsOf: ch) }
            }
            return out
        }
    }
}

/// Walks a scenario lazily: memory is the current step's orderings of the pools (index
/// arrays), nothing per sample.
public struct ScenarioIterator: IteratorProtocol, Sendable {
    let scenario: Scenario
    var position = 0
    var globalStep = -1
    var inStep = 0
    var rng = ScenarioRNG(seed: 0)
    var known: [Int] = []
    var knownCursor = 0
    var outliers: [Int] = []
    var outlierCursor = 0

    init(_ s: Scenario) { scenario = s }

    public mutating func next() -> ScenarioSample? {
        guard position < scenario.count else { return nil }
        if globalStep < 0 || inStep == scenario.samplesPerStep {
            globalStep += 1
            inStep = 0
            rng = ScenarioRNG(seed: ScenarioRNG.derive(scenario.seed, 1, UInt64(globalStep)))
            known = scenario.ordering(&rng)
            knownCursor = 0
            outliers = []
            outlierCursor = 0
        }
        let step = scenario.steps[globalStep % scenario.steps.count]
        let isOutlier = scenario.outlierRatio > 0 && rng.uniform() < scenario.outlierRatio
        let index: Int, label: Int
        if isOutlier {
            if outlierCursor == outliers.count {
                outliers = Array(0..<scenario.pool.outlierIndices.count)
                rng.shuffle(&outliers)
                outlierCursor = 0
            }
            let k = outliers[outlierCursor]
            outlierCursor += 1
            index = scenario.pool.outlierIndices[k]
            label = scenario.pool.outlierLabels[k]
        } else {
            if knownCursor == known.count {
                known = scenario.ordering(&rng)
                knownCursor = 0
            }
            let k = known[knownCursor]
            knownCursor += 1
            index = scenario.pool.knownIndices[k]
            label = scenario.pool.knownLabels[k]
        }
        let sample = ScenarioSample(position: position, imageIndex: index, label: label, domain: step.domain,
                                    corruption: step.corruption, severity: step.severity, isOutlier: isOutlier,
                                    corruptionSeed: ScenarioRNG.derive(scenario.seed, 3, UInt64(position)))
        position += 1
        inStep += 1
        return sample
    }
}
