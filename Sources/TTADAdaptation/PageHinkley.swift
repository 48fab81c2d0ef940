/// The Page–Hinkley change detector for the mean of a scalar stream, as River implements it
/// (`river.drift.PageHinkley`, with its forgetting factor and two-sided mode).
///
/// Why: a cheap, O(1)-state alarm for "the mean entropy has moved" that reacts to a step within
/// tens of samples and, with its δ tolerance, ignores noise around a constant mean.
///
/// Per value x (n counts values since the last reset):
///
///     x̄ₙ = x̄ₙ₋₁ + (x − x̄ₙ₋₁)/n                     running mean, including x
///     mₙ⁺ = α·mₙ₋₁⁺ + (x − x̄ₙ) − δ,   Mₙ⁺ = min(Mₙ₋₁⁺, mₙ⁺)      increase
///     mₙ⁻ = α·mₙ₋₁⁻ + (x − x̄ₙ) + δ,   Mₙ⁻ = max(Mₙ₋₁⁻, mₙ⁻)      decrease
///     alarm (once n ≥ min_instances): up: mₙ⁺ − Mₙ⁺ > λ;  down: Mₙ⁻ − mₙ⁻ > λ;  both: either
///
/// After an alarm the detector starts over (mean, sums, extremes) on the next value — River
/// resets at the start of the update that follows a detection. Defaults are River's:
/// min_instances 30, δ = 0.005, λ = 50, α = 1 − 10⁻⁴, mode both. α < 1 is River's addition (it
/// is not in Page 1954 or Gama's formulation): old deviations fade, so a long quiet stream does
/// not build up a drift-sized sum. λ and δ are in the unit of x (× samples for λ).
///
/// River starts M⁺ at +∞ and M⁻ at −1 (sic); here both start at the first sums, which is the
/// same because the first deviation is always 0, making m₁⁻ = δ ≥ 0 > −1. Non-finite values are
/// ignored (counted), so one NaN cannot disable the detector for good.
public struct PageHinkley: Codable, Equatable, Sendable {
    public enum Mode: String, Codable, Sendable, CaseIterable {
        case up, down, both
    }

    public struct Configuration: Codable, Equatable, Sendable {
        public let minInstances: Int
        /// δ ≥ 0, the tolerated deviation.
        public let delta: Double
        /// λ > 0, the alarm threshold.
        public let threshold: Double
        /// α in (0, 1], the forgetting factor on the sums.
        public let alpha: Double
        public let mode: Mode

        public init(minInstances: Int = 30, delta: Double = 0.005, threshold: Double = 50,
                    alpha: Double = 1 - 0.0001, mode: Mode = .both) throws(AdaptationConfigurationError) {
            try Validate.atLeast(minInstances, 1, "PageHinkley.minInstances")
            try Validate.nonNegative(delta, "PageHinkley.delta")
            try Validate.positive(threshold, "PageHinkley.threshold")
            guard alpha.isFinite, alpha > 0, alpha <= 1 else {
                throw AdaptationConfigurationError(parameter: "PageHinkley.alpha", "must be in (0, 1], got \(alpha)")
            }
            self.minInstances = minInstances
            self.delta = delta
            self.threshold = threshold
            self.alpha = alpha
            self.mode = mode
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let n = try c.decode(Int.self, forKey: .minInstances)
            let d = try c.decode(Double.self, forKey: .delta)
            let t = try c.decode(Double.self, forKey: .threshold)
            let a = try c.decode(Double.self, forKey: .alpha)
            let m = try c.decode(Mode.self, forKey: .mode)
            self = try decodingConfiguration(decoder) { () throws(AdaptationConfigurationError) in
                try Configuration(minInstances: n, delta: d, threshold: t, alpha: a, mode: m)
            }
        }
    }

    public let configuration: Configuration
    /// Values since the last reset.
    public private(set) var count = 0
    public private(set) var mean = 0.0
    public private(set) var sumIncrease = 0.0
    public private(set) var sumDecrease = 0.0
    public private(set) var minIncrease = 0.0
    public private(set) var maxDecrease = 0.0
    /// True right after the update that raised an alarm.
    public private(set) var driftDetected = false
    /// Alarms since creation.
    public private(set) var detections = 0
    public private(set) var ignoredNonFinite = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// mₙ⁺ − Mₙ⁺, the statistic the increase test compares with λ.
    public var increaseStatistic: Double { sumIncrease - minIncrease }
    /// Mₙ⁻ − mₙ⁻, the statistic the decrease test compares with λ.
    public var decreaseStatistic: Double { maxDecrease - sumDecrease }

    /// Feeds one value; returns true when it raises an alarm.
    @discardableResult
    public mutating func update(_ x: Double) -> Bool {
        guard x.isFinite else {
            ignoredNonFinite += 1
            return false
        }
        if driftDetected { restart() }
        count += 1
        mean += (x - mean) / Double(count)
        let dev = x - mean
        let a = configuration.alpha, d = configuration.delta
        sumIncrease = a * sumIncrease + dev - d
        sumDecrease = a * sumDecrease + dev + d
        if count == 1 {
            minIncrease = sumIncrease
            maxDecrease = sumDecrease
        } else {
            minIncrease = Swift.min(minIncrease, sumIncrease)
            maxDecrease = Swift.max(maxDecrease, sumDecrease)
        }
        guard count >= configuration.minInstances else { return false }
        let up = increaseStatistic > configuration.threshold
        let down = decreaseStatistic > configuration.threshold
        switch configuration.mode {
        case .up: driftDetected = up
        case .down: driftDetected = down
        case .both: driftDetected = up || down
        }
        if driftDetected { detections += 1 }
        return driftDetected
    }

    /// Forgets everything but the configuration and the counters.
    public mutating func restart() {
        count = 0
        mean = 0
        sumIncrease = 0
        sumDecrease = 0
        minIncrease = 0
        maxDecrease = 0
        driftDetected = false
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        configuration = try c.decode(Configuration.self, forKey: .configuration)
        count = try c.decode(Int.self, forKey: .count)
        mean = try c.decode(Double.self, forKey: .mean)
        sumIncrease = try c.decode(Double.self, forKey: .sumIncrease)
        sumDecrease = try c.decode(Double.self, forKey: .sumDecrease)
        minIncrease = try c.decode(Double.self, forKey: .minIncrease)
        maxDecrease = try c.decode(Double.self, forKey: .maxDecrease)
        driftDetected = try c.decode(Bool.self, forKey: .driftDetected)
        detections = try c.decode(Int.self, forKey: .detections)
        ignoredNonFinite = try c.decode(Int.self, forKey: .ignoredNonFinite)
        guard count >= 0, detections >= 0, ignoredNonFinite >= 0,
              [mean, sumIncrease, sumDecrease, minIncrease, maxDecrease].allSatisfy({ $0.isFinite }),
              minIncrease <= sumIncrease, maxDecrease >= sumDecrease else {
            throw corruptState(decoder, "Page-Hinkley state is inconsistent")
        }
    }
}
