#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the collapse guard asked for a reset.
public enum ResetReason: String, Codable, Sendable, CaseIterable {
    /// SAR: the moving average of the adaptation loss (entropy) fell under e₀ — the model has
    /// become over-confident, the usual first sign of collapse.
    case entropyEMA
    /// The adapted model's predictions concentrated on a few classes while the frozen model's
    /// (or the reference window's) did not.
    case classCollapse
    /// The adapted model disagrees with the frozen model on too many recent samples.
    case disagreement
    /// A NaN or infinity reached the loss, the gradients or the parameters.
    case nonFinite
    /// RDumb: a reset every N samples whatever happens.
    case periodic
}

/// A reset the caller must carry out: restore the prompts (all slots, or the slots in use),
/// clear the memory bank, reset the optimizer, log and persist the event.
public struct ResetDecision: Codable, Equatable, Sendable {
    public let reason: ResetReason
    /// 1-based ordinal of the sample whose observation triggered it.
    public let sample: Int
    /// The statistic that crossed its bound (EMA, number of classes or share excess,
    /// disagreement rate, samples since the last reset; NaN is encoded as 0 for `nonFinite`).
    public let value: Double
    /// The bound it crossed.
    public let threshold: Double
}

/// Resets per reason since the guard was created (checkpointed).
public struct ResetCounters: Codable, Equatable, Sendable {
    public var entropyEMA = 0
    public var classCollapse = 0
    public var disagreement = 0
    public var nonFinite = 0
    public var periodic = 0

    public init() {}

    public subscript(reason: ResetReason) -> Int {
        get {
            switch reason {
            case .entropyEMA: entropyEMA
            case .classCollapse: classCollapse
            case .disagreement: disagreement
            case .nonFinite: nonFinite
            case .periodic: periodic
            }
        }
        set {
            switch reason {
            case .entropyEMA: entropyEMA = newValue
            case .classCollapse: classCollapse = newValue
            case .disagreement: disagreement = newValue
            case .nonFinite: nonFinite = newValue
            case .periodic: periodic = newValue
            }
        }
    }

    public var total: Int { ResetReason.allCases.reduce(0) { $0 + self[$1] } }
}

/// Watches a stream of adapted predictions and decides when adaptation has gone wrong and must
/// be undone.
///
/// Why: online entropy minimisation collapses slowly and silently (calibration.md: TPT never
/// reset loses 11.5 points, with some domains predicting one class; Tent on CIFAR-10-C loses 33
/// points over three epochs). No single signal catches every collapse, so the guard combines
/// cheap ones and resets on the first that fires:
///
/// 1. `nonFinite`: the caller reports a NaN/∞ (or passes a non-finite loss) → reset at once,
///    even during a cool-down: a NaN in the prompts poisons every later prediction.
///    (SAR skips NaN losses in its EMA; here a NaN is a reason to reset, not to ignore.)
/// 2. `entropyEMA` (SAR, `sar.py`): per adaptation step, `ema ← m·ema + (1−m)·loss` with
///    m = 0.9, initialised to the first loss; reset when `ema < e₀`. SAR hard-codes e₀ = 0.2 for
///    ImageNet's 1000 classes; the default here scales it by ln C / ln 1000 (methods.md §9), e.g.
///    0.060 for C = 8. The loss is SAR's: mean entropy of the reliable samples of the step.
/// 3. `classCollapse`, once W (default 256) samples have been seen since the last reset:
///    let d = number of classes with at least 1 % of the window's adapted predictions, and
///    d_ref the same for the reference. Reset if `d ≤ k` (default 2) while `d_ref > k`, or if
///    the adapted top-class share exceeds the reference's by more than 0.1. The reference is
///    the frozen model's predictions on the same W samples when every sample in the window has
///    one — this is robust to label shift (a camera that sees two classes for a while makes the
///    frozen model predict two classes too) — and otherwise the adapted predictions of the first
///    full window checked after the start or the last reset (for a reset, the window at the end
///    of the cool-down, filled while the prompts were still fresh).
/// 4. `disagreement`: with a full window of which at least half the samples have a frozen
///    prediction, reset if the fraction of those where adapted ≠ frozen exceeds 0.5.
/// 5. `periodic` (RDumb): optionally, reset every N samples since the last reset. RDumb resets
///    every 1000 batches of 64 (64 000 samples) whatever happens; counting from the last reset
///    avoids a periodic reset right after a triggered one. Off by default.
///
/// After any reset the guard clears its EMA, window and reference and enters a cool-down of K
/// samples (default 500) during which no trigger but `nonFinite` fires and `shouldAdapt` is
/// false: the caller predicts with the restored prompts and does not adapt. The window refills
/// during the cool-down, so the collapse test resumes as soon as it ends.
///
/// Setting a bound to its neutral value disables a test: e₀ = 0, k = 0, top-share margin 1,
/// disagreement bound 1, periodic interval 0.
public struct CollapseGuard: Codable, Equatable, Sendable {
    public struct Configuration: Codable, Equatable, Sendable {
        public let classCount: Int
        /// e₀ in nats (0 disables).
        public let entropyFloor: Double
        /// m, the EMA momentum (SAR: 0.9).
        public let emaMomentum: Double
        /// W, samples in the sliding window (default 256).
        public let window: Int
        /// Share a class needs in the window to count as "predicted" (default 0.01).
        public let minimumClassShare: Double
        /// k: collapse when at most this many classes remain (default 2; 0 disables).
        public let collapsedClassCount: Int
        /// Top-share excess over the reference that counts as collapse (default 0.1; 1 disables).
        public let topShareMargin: Double
        /// Disagreement rate above which to reset (default 0.5; 1 disables).
        public let disagreementBound: Double
        /// K, samples without adaptation or triggers after a reset (default 500).
        public let cooldown: Int
        /// RDumb-style reset every N samples since the last reset (default 0 = off).
        public let periodicInterval: Int

        /// SAR's e₀ = 0.2 nats for 1000 classes, scaled to C classes by ln C / ln 1000.
        public static func scaledSAREntropyFloor(classCount: Int) -> Double {
            0.2 * log(Double(classCount)) / log(1000.0)
        }

        /// `entropyFloor: nil` means `scaledSAREntropyFloor(classCount:)`.
        public init(classCount: Int, entropyFloor: Double? = nil, emaMomentum: Double = 0.9, window: Int = 256,
                    minimumClassShare: Double = 0.01, collapsedClassCount: Int = 2, topShareMargin: Double = 0.1,
                    disagreementBound: Double = 0.5, cooldown: Int = 500,
                    periodicInterval: Int = 0) throws(AdaptationConfigurationError) {
            try Validate.atLeast(classCount, 2, "CollapseGuard.classCount")
            let floor = entropyFloor ?? Self.scaledSAREntropyFloor(classCount: classCount)
            try Validate.nonNegative(floor, "CollapseGuard.entropyFloor")
            guard emaMomentum.isFinite, emaMomentum >= 0, emaMomentum < 1 else {
                throw AdaptationConfigurationError(parameter: "CollapseGuard.emaMomentum", "must be in [0, 1), got \(emaMomentum)")
            }
            try Validate.atLeast(window, 1, "CollapseGuard.window")
            guard minimumClassShare.isFinite, minimumClassShare > 0, minimumClassShare <= 1 else {
                throw AdaptationConfigurationError(parameter: "CollapseGuard.minimumClassShare",
                                                   "must be in (0, 1], got \(minimumClassShare)")
            }
            try Validate.inRange(collapsedClassCount, 0...classCount, "CollapseGuard.collapsedClassCount")
            guard topShareMargin.isFinite, topShareMargin > 0, topShareMargin <= 1 else {
                throw AdaptationConfigurationError(parameter: "CollapseGuard.topShareMargin", "must be in (0, 1], got \(topShareMargin)")
            }
            guard disagreementBound.isFinite, disagreementBound >= 0, disagreementBound <= 1 else {
                throw AdaptationConfigurationError(parameter: "CollapseGuard.disagreementBound",
                                                   "must be in [0, 1], got \(disagreementBound)")
            }
            try Validate.atLeast(cooldown, 0, "CollapseGuard.cooldown")
            try Validate.atLeast(periodicInterval, 0, "CollapseGuard.periodicInterval")
            self.classCount = classCount
            self.entropyFloor = floor
            self.emaMomentum = emaMomentum
            self.window = window
            self.minimumClassShare = minimumClassShare
            self.collapsedClassCount = collapsedClassCount
            self.topShareMargin = topShareMargin
            self.disagreementBound = disagreementBound
            self.cooldown = cooldown
            self.periodicInterval = periodicInterval
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let classCount = try c.decode(Int.self, forKey: .classCount)
            let floor = try c.decode(Double.self, forKey: .entropyFloor)
            let m = try c.decode(Double.self, forKey: .emaMomentum)
            let w = try c.decode(Int.self, forKey: .window)
            let share = try c.decode(Double.self, forKey: .minimumClassShare)
            let k = try c.decode(Int.self, forKey: .collapsedClassCount)
            let margin = try c.decode(Double.self, forKey: .topShareMargin)
            let bound = try c.decode(Double.self, forKey: .disagreementBound)
            let cool = try c.decode(Int.self, forKey: .cooldown)
            let period = try c.decode(Int.self, forKey: .periodicInterval)
            self = try decodingConfiguration(decoder) { () throws(AdaptationConfigurationError) in
                try Configuration(classCount: classCount, entropyFloor: floor, emaMomentum: m, window: w,
                                  minimumClassShare: share, collapsedClassCount: k, topShareMargin: margin,
                                  disagreementBound: bound, cooldown: cool, periodicInterval: period)
            }
        }
    }

    public let configuration: Configuration
    /// Samples observed in total.
    public private(set) var sampleCount = 0
    /// Samples observed since the last reset (or the start).
    public private(set) var samplesSinceReset = 0
    /// Cool-down samples still to go.
    public private(set) var cooldownRemaining = 0
    /// SAR's e_m; nil before the first loss after a reset.
    public private(set) var entropyEMA: Double? = nil
    /// The recent predictions.
    public private(set) var window: PredictionWindow
    /// Adapted-class histogram of the first full window since the start or the last reset; used
    /// as the reference when frozen predictions are missing.
    public private(set) var referenceHistogram: [Int]? = nil
    public private(set) var counters = ResetCounters()
    public private(set) var lastDecision: ResetDecision? = nil

    public init(configuration: Configuration) {
        self.configuration = configuration
        // Cannot fail: the configuration already checked window ≥ 1 and classCount ≥ 2.
        window = try! PredictionWindow(capacity: configuration.window, classCount: configuration.classCount)
    }

    public var isCoolingDown: Bool { cooldownRemaining > 0 }
    /// False during a cool-down: the caller must not adapt on the next sample.
    public var shouldAdapt: Bool { !isCoolingDown }

    /// Observes one sample's outcome. `adaptationLoss` is the loss of the adaptation step run on
    /// this sample, if one ran; `nonFinite` reports a NaN/∞ seen anywhere (loss, gradients,
    /// parameters). Returns a decision when a reset is due. Throws, changing nothing, on a class
    /// index out of range.
    public mutating func observe(predictedClass: Int, frozenClass: Int?, adaptationLoss: Float? = nil,
                                 nonFinite: Bool = false) throws(AdaptationInputError) -> ResetDecision? {
        try Validate.classIndex(predictedClass, configuration.classCount, "CollapseGuard predictedClass")
        if let frozenClass { try Validate.classIndex(frozenClass, configuration.classCount, "CollapseGuard frozenClass") }
        sampleCount += 1
        samplesSinceReset += 1

        if nonFinite || (adaptationLoss.map { !$0.isFinite } ?? false) {
            return trigger(.nonFinite, value: 0, threshold: 0)
        }
        try window.append(adapted: predictedClass, frozen: frozenClass)
        if cooldownRemaining > 0 {
            cooldownRemaining -= 1
            return nil
        }

        // (2) SAR's entropy EMA.
        if let loss = adaptationLoss {
            let m = configuration.emaMomentum
            let ema = entropyEMA.map { m * $0 + (1 - m) * Double(loss) } ?? Double(loss)
            entropyEMA = ema
            if ema < configuration.entropyFloor {
                return trigger(.entropyEMA, value: ema, threshold: configuration.entropyFloor)
            }
        }

        if window.isFull {
            // (3) Class collapse against the frozen predictions or the first full window.
            if referenceHistogram == nil { referenceHistogram = window.adaptedHistogram }
            let reference = window.frozenCount == window.count ? window.frozenHistogram : referenceHistogram!
            let share = configuration.minimumClassShare
            let k = configuration.collapsedClassCount
            let d = PredictionWindow.classesWithShare(atLeast: share, in: window.adaptedHistogram)
            if k > 0, d <= k, PredictionWindow.classesWithShare(atLeast: share, in: reference) > k {
                return trigger(.classCollapse, value: Double(d), threshold: Double(k))
            }
            let excess = PredictionWindow.topShare(of: window.adaptedHistogram) - PredictionWindow.topShare(of: reference)
            if excess > configuration.topShareMargin {
                return trigger(.classCollapse, value: excess, threshold: configuration.topShareMargin)
            }
            // (4) Disagreement with the frozen model.
            if 2 * window.frozenCount >= window.count, let rate = window.disagreementRate,
               rate > configuration.disagreementBound {
                return trigger(.disagreement, value: rate, threshold: configuration.disagreementBound)
            }
        }

        // (5) RDumb's periodic reset.
        if configuration.periodicInterval > 0, samplesSinceReset >= configuration.periodicInterval {
            return trigger(.periodic, value: Double(samplesSinceReset), threshold: Double(configuration.periodicInterval))
        }
        return nil
    }

    private mutating func trigger(_ reason: ResetReason, value: Double, threshold: Double) -> ResetDecision {
        let decision = ResetDecision(reason: reason, sample: sampleCount, value: value, threshold: threshold)
        counters[reason] += 1
        lastDecision = decision
        cooldownRemaining = configuration.cooldown
        samplesSinceReset = 0
        entropyEMA = nil
        referenceHistogram = nil
        window.removeAll()
        return decision
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        configuration = try c.decode(Configuration.self, forKey: .configuration)
        sampleCount = try c.decode(Int.self, forKey: .sampleCount)
        samplesSinceReset = try c.decode(Int.self, forKey: .samplesSinceReset)
        cooldownRemaining = try c.decode(Int.self, forKey: .cooldownRemaining)
        entropyEMA = try c.decodeIfPresent(Double.self, forKey: .entropyEMA)
        window = try c.decode(PredictionWindow.self, forKey: .window)
        referenceHistogram = try c.decodeIfPresent([Int].self, forKey: .referenceHistogram)
        counters = try c.decode(ResetCounters.self, forKey: .counters)
        lastDecision = try c.decodeIfPresent(ResetDecision.self, forKey: .lastDecision)
        guard window.capacity == configuration.window, window.classCount == configuration.classCount,
              sampleCount >= samplesSinceReset, samplesSinceReset >= 0,
              (0...configuration.cooldown).contains(cooldownRemaining),
              entropyEMA.map({ $0.isFinite }) ?? true,
              referenceHistogram.map({ $0.count == configuration.classCount && $0.allSatisfy { $0 >= 0 } }) ?? true else {
            throw corruptState(decoder, "collapse guard state does not match its configuration")
        }
    }
}
