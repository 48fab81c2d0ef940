#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which samples may enter the memory bank: STAMP's filter (`update_memory`) plus the outlier
/// flag.
///
/// Why: what the bank holds is what the model is trained on. A confidently wrong or unknown
/// sample in the bank is replayed for many steps, so the gate must be stricter than the
/// prediction path. A sample is admitted only if
/// 1. it is not flagged as an outlier (STAMP keeps outliers out through this same entropy
///    margin; the daemon's calibrated outlier score is a second, explicit guard);
/// 2. its entropy is finite and strictly below the margin α·ln C;
/// 3. when `requireAgreement` is on, the adapted model's class equals the frozen model's.
///    STAMP checks this for C ≠ 1000 and skips it for ImageNet, hence the switch.
///
/// The entropy should be that of the view-averaged prediction p̄ when views are used (STAMP
/// averages the original and 15 augmentations); the caller computes it.
///
/// Default α = 0.4: SAR's and EATA's E₀ = 0.4·ln C, and the value calibration.md used for the
/// bank that held up on the small CLIP. STAMP's own α is tuned per dataset (0.25 on CIFAR-10-C,
/// 0.9 on CIFAR-100-C, 0.8 on ImageNet-C), so it is a setting, not a constant.
///
/// Keeps a counter per outcome, checkpointed with the rest, so operators can see why the bank
/// is empty (everything rejected for entropy under heavy corruption is the usual answer).
public struct BankAdmission: Codable, Equatable, Sendable {
    public struct Configuration: Codable, Equatable, Sendable {
        /// C ≥ 2.
        public let classCount: Int
        /// α in (0, 1]: the margin is α·ln C (ln C is the entropy of the uniform prediction).
        public let entropyFraction: Double
        /// Require the adapted and frozen predictions to agree (default true).
        public let requireAgreement: Bool

        public static let defaultEntropyFraction = 0.4

        public init(classCount: Int, entropyFraction: Double = Configuration.defaultEntropyFraction,
                    requireAgreement: Bool = true) throws(AdaptationConfigurationError) {
            try Validate.atLeast(classCount, 2, "BankAdmission.classCount")
            guard entropyFraction.isFinite, entropyFraction > 0, entropyFraction <= 1 else {
                throw AdaptationConfigurationError(parameter: "BankAdmission.entropyFraction",
                                                   "must be in (0, 1], got \(entropyFraction)")
            }
            self.classCount = classCount
            self.entropyFraction = entropyFraction
            self.requireAgreement = requireAgreement
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let classCount = try c.decode(Int.self, forKey: .classCount)
            let alpha = try c.decode(Double.self, forKey: .entropyFraction)
            let agree = try c.decode(Bool.self, forKey: .requireAgreement)
            self = try decodingConfiguration(decoder) { () throws(AdaptationConfigurationError) in
                try Configuration(classCount: classCount, entropyFraction: alpha, requireAgreement: agree)
            }
        }
    }

    /// Why a sample was kept out, in the order the checks run.
    public enum Rejection: String, Codable, Sendable, CaseIterable {
        case outlier
        case nonFiniteEntropy
        case entropyTooHigh
        /// `requireAgreement` is on and no frozen prediction was given.
        case noFrozenPrediction
        case disagreesWithFrozen
    }

    public enum Decision: Equatable, Sendable {
        case admit
        case reject(Rejection)

        public var isAdmitted: Bool { self == .admit }
    }

    /// How many samples each outcome has had.
    public struct Counters: Codable, Equatable, Sendable {
        public var admitted = 0
        public var outlier = 0
        public var nonFiniteEntropy = 0
        public var entropyTooHigh = 0
        public var noFrozenPrediction = 0
        public var disagreesWithFrozen = 0

        public init() {}

        public subscript(rejection: Rejection) -> Int {
            switch rejection {
            case .outlier: outlier
            case .nonFiniteEntropy: nonFiniteEntropy
            case .entropyTooHigh: entropyTooHigh
            case .noFrozenPrediction: noFrozenPrediction
            case .disagreesWithFrozen: disagreesWithFrozen
            }
        }

        public var rejected: Int { Rejection.allCases.reduce(0) { $0 + self[$1] } }
    }

    public let configuration: Configuration
    /// α·ln C in nats.
    public let entropyMargin: Float
    public private(set) var counters = Counters()

    public init(configuration: Configuration) {
        self.configuration = configuration
        entropyMargin = Float(configuration.entropyFraction * log(Double(configuration.classCount)))
    }

    /// Decides one sample and counts the outcome. `adaptedClass`/`frozenClass` are argmax
    /// classes; `frozenClass` may be nil when no frozen prediction was made (then the sample is
    /// rejected if agreement is required).
    public mutating func evaluate(entropy: Float, adaptedClass: Int, frozenClass: Int?, isOutlier: Bool) -> Decision {
        let d = decide(entropy: entropy, adaptedClass: adaptedClass, frozenClass: frozenClass, isOutlier: isOutlier)
        switch d {
        case .admit: counters.admitted += 1
        case .reject(.outlier): counters.outlier += 1
        case .reject(.nonFiniteEntropy): counters.nonFiniteEntropy += 1
        case .reject(.entropyTooHigh): counters.entropyTooHigh += 1
        case .reject(.noFrozenPrediction): counters.noFrozenPrediction += 1
        case .reject(.disagreesWithFrozen): counters.disagreesWithFrozen += 1
        }
        return d
    }

    /// The decision without counting it.
    public func decide(entropy: Float, adaptedClass: Int, frozenClass: Int?, isOutlier: Bool) -> Decision {
        if isOutlier { return .reject(.outlier) }
        guard entropy.isFinite else { return .reject(.nonFiniteEntropy) }
        guard entropy < entropyMargin else { return .reject(.entropyTooHigh) }
        if configuration.requireAgreement {
            guard let frozenClass else { return .reject(.noFrozenPrediction) }
            guard frozenClass == adaptedClass else { return .reject(.disagreesWithFrozen) }
        }
        return .admit
    }

    public mutating func resetCounters() { counters = Counters() }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        configuration = try c.decode(Configuration.self, forKey: .configuration)
        entropyMargin = Float(configuration.entropyFraction * log(Double(configuration.classCount)))
        counters = try c.decode(Counters.self, forKey: .counters)
    }

    private enum CodingKeys: String, CodingKey { case configuration, counters }
}
