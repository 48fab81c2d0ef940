/// Detects a label-correlated stream — the camera sees one class for hundreds of samples, then
/// another — so that adaptation can pause instead of learning the run.
///
/// Why: the memory bank balances by *predicted* class. During a long run of one true class the
/// bank fills with that class under every label it is confused with (shirts predicted "shirt",
/// "T-shirt", "pullover"), and entropy minimisation then sharpens the confusions: measured on
/// the label-correlated scenario (Dirichlet γ 0.1), adapting through such runs cost up to 18
/// points on a domain (docs/adaptation.md). Label shift and covariate shift both change what the
/// frozen model predicts, so the histogram alone cannot tell them apart; what tells them apart
/// is *order*. In an exchangeable stream the class of sample t is independent of sample t−1,
/// so over a window the rate of equal neighbours matches Σ_c p̂_c², whatever the domain does to
/// the marginal p̂. Runs make neighbours agree far more often than that.
///
/// The statistic, over the last W classes (the frozen model's predictions, which adaptation
/// cannot bend): `excess = (#{t : c_t = c_{t−1}}) / (W − 1) − Σ_c (n_c / W)²`, about 0 (slightly
/// below) for an exchangeable stream and up to 1 − Σ p̂² for one long run per window. The gate
/// closes (`isCorrelated`) when the window is full and the excess exceeds the threshold, and
/// opens again only once it falls below the lower re-open level: a correlated stream's excess
/// wanders (it dips while one window straddles few runs), and a gate that flickers open lets a
/// few hundred samples of one class through, which the pause then keeps (measured: −7.5 points
/// on one domain from 216 such samples). The window must be longer than the runs: a window
/// inside one run looks exchangeable.
///
/// Measured on the frozen predictions of `ttad stream`'s scenarios at W = 2048: the excess
/// never exceeded 0.11 on the continual, gradual or outlier scenarios, and exceeded 0.15 on 96 %
/// of the label-correlated one, where it never fell below 0.115 between its first rise and the
/// last domain (`tools/label_correlation.py`), hence the defaults 0.15 and 0.10.
///
/// Warm-up (`warmupSamples` > 0): the gate starts *closed* and opens only on evidence that the
/// stream is mixed. Before the window is full, the statistic is computed over the samples seen
/// so far; the stream counts as mixed once at least `warmupSamples` have been seen, their excess
/// is at most `mixedBelow` and their predictions spread over at least `mixedClasses` effective
/// classes (1 / Σ p̂²). The spread is needed because a window inside one run looks exchangeable
/// (the frozen model's confusions within the run are independent draws), so a low excess alone
/// is no evidence; what one run cannot show is many classes. A stream that never shows it waits
/// for the full window and the hysteresis test above. Once open, a partial window whose excess
/// exceeds the threshold closes the gate early, without waiting for the window to fill. Why:
/// without the warm-up, adapting on the first runs of a label-correlated stream cost 12–13
/// points over its first 250 samples (docs/adaptation.md).
public struct LabelCorrelationGate: Codable, Equatable, Sendable {
    public struct Configuration: Codable, Equatable, Sendable {
        public let classCount: Int
        /// W; 0 disables the gate (it never closes).
        public let window: Int
        /// Excess above which the stream counts as label-correlated (the gate closes).
        public let threshold: Double
        /// Excess below which a closed gate opens again (≤ threshold).
        public let reopenThreshold: Double
        /// Warm-up: samples seen before a partial window can show the stream mixed (0: no
        /// warm-up, the gate starts open and decides only on full windows).
        public let warmupSamples: Int
        /// Warm-up: excess over the samples so far at or below which they count as mixed.
        public let mixedBelow: Double
        /// Warm-up: effective number of classes (1 / Σ p̂²) the samples so far must reach (at most
        /// the class count).
        public let mixedClasses: Double

        public init(classCount: Int, window: Int = 2048, threshold: Double = 0.15,
                    reopenThreshold: Double = 0.10, warmupSamples: Int = 0, mixedBelow: Double = 0.05,
                    mixedClasses: Double = 3) throws(AdaptationConfigurationError) {
            try Validate.atLeast(classCount, 2, "LabelCorrelationGate.classCount")
            if window != 0 { try Validate.atLeast(window, 16, "LabelCorrelationGate.window") }
            try Validate.open(threshold, 0, 1, "LabelCorrelationGate.threshold")
            try Validate.closed(reopenThreshold, -1, threshold, "LabelCorrelationGate.reopenThreshold")
            if warmupSamples != 0, window != 0 {
                try Validate.closed(Double(warmupSamples), 2, Double(window), "LabelCorrelationGate.warmupSamples")
            }
            try Validate.closed(mixedBelow, -1, threshold, "LabelCorrelationGate.mixedBelow")
            try Validate.closed(mixedClasses, 1, 1e9, "LabelCorrelationGate.mixedClasses")
            self.classCount = classCount
            self.window = window
            self.threshold = threshold
            self.reopenThreshold = reopenThreshold
            self.warmupSamples = window == 0 ? 0 : warmupSamples
            self.mixedBelow = mixedBelow
            // More effective classes than there are cannot be shown: a larger value means all of them.
            self.mixedClasses = min(mixedClasses, Double(classCount))
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let classCount = try c.decode(Int.self, forKey: .classCount)
            let window = try c.decode(Int.self, forKey: .window)
            let threshold = try c.decode(Double.self, forKey: .threshold)
            let reopen = try c.decode(Double.self, forKey: .reopenThreshold)
            // Written before the warm-up existed: no warm-up, as those gates ran.
            let warmup = try c.decodeIfPresent(Int.self, forKey: .warmupSamples) ?? 0
            let mixedBelow = try c.decodeIfPresent(Double.self, forKey: .mixedBelow) ?? 0.05
            let mixedClasses = try c.decodeIfPresent(Double.self, forKey: .mixedClasses) ?? 3
            self = try decodingConfiguration(decoder) { () throws(AdaptationConfigurationError) in
                try Configuration(classCount: classCount, window: window, threshold: threshold, reopenThreshold: reopen,
                                  warmupSamples: warmup, mixedBelow: mixedBelow, mixedClasses: mixedClasses)
            }
        }
    }

    public let configuration: Configuration
    /// Classes in the window (≤ W).
    public private(set) var count = 0
    /// Per-class counts in the window.
    public private(set) var histogram: [Int]
    /// Adjacent pairs in the window with equal classes.
    public private(set) var repeats = 0
    /// Σ_c n_c², kept up to date so the test costs O(1) per sample whatever C is.
    private var sumOfSquares = 0
    /// Samples observed while the gate was closed (checkpointed; a metric), warm-up included.
    public private(set) var closedSamples = 0
    /// Of those, the samples of the warm-up (before the stream first showed itself mixed).
    public private(set) var warmupClosedSamples = 0
    /// Times the gate went from open to closed (the warm-up's initial closed state is not one).
    public private(set) var closures = 0
    /// Whether the gate has been open at least once (the warm-up is over).
    public private(set) var hasOpened: Bool
    // Ring of the window's classes; slot `next` is overwritten next.
    private var ring: [Int32]
    private var next = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
        histogram = [Int](repeating: 0, count: configuration.classCount)
        ring = [Int32](repeating: 0, count: configuration.window)
        isCorrelated = configuration.warmupSamples > 0
        hasOpened = !isCorrelated
    }

    public var isEnabled: Bool { configuration.window > 0 }

    /// The excess of equal neighbours over Σ p̂²; nil until the window is full.
    public var excess: Double? {
        let w = configuration.window
        guard w > 0, count == w else { return nil }
        return Double(repeats) / Double(w - 1) - Double(sumOfSquares) / (Double(w) * Double(w))
    }

    /// The same statistic over the samples seen so far while the window is filling (equal to
    /// `excess` once it is full); nil before two samples.
    public var partialExcess: Double? {
        guard configuration.window > 0, count >= 2 else { return nil }
        let n = Double(count)
        return Double(repeats) / (n - 1) - Double(sumOfSquares) / (n * n)
    }

    /// 1 / Σ p̂² over the window so far: how many classes the predictions spread over.
    public var effectiveClasses: Double {
        sumOfSquares == 0 ? 0 : Double(count) * Double(count) / Double(sumOfSquares)
    }

    /// Whether adaptation should pause: the excess rose above the threshold and has not yet
    /// fallen below the re-open level.
    public private(set) var isCorrelated = false

    /// Adds the class of the next sample. Throws, changing nothing, on a class outside 0..<C.
    public mutating func observe(_ cls: Int) throws(AdaptationInputError) {
        try Validate.classIndex(cls, configuration.classCount, "LabelCorrelationGate class")
        let w = configuration.window
        guard w > 0 else { return }
        if count == w {
            // Drop the oldest: it leaves the histogram and, if its successor matched it, a repeat.
            let oldest = ring[next], second = ring[(next + 1) % w]
            sumOfSquares -= 2 * histogram[Int(oldest)] - 1      // n² − (n − 1)²
            histogram[Int(oldest)] -= 1
            if oldest == second { repeats -= 1 }
        } else {
            count += 1
        }
        if count > 1, ring[(next + w - 1) % w] == Int32(cls) { repeats += 1 }
        ring[next] = Int32(cls)
        sumOfSquares += 2 * histogram[cls] + 1                  // (n + 1)² − n²
        histogram[cls] += 1
        next = (next + 1) % w
        let wasCorrelated = isCorrelated
        if let e = excess {
            if isCorrelated { isCorrelated = e >= configuration.reopenThreshold } else { isCorrelated = e > configuration.threshold }
        } else if configuration.warmupSamples > 0, count >= configuration.warmupSamples, let e = partialExcess {
            if isCorrelated {
                isCorrelated = !(e <= configuration.mixedBelow && effectiveClasses >= configuration.mixedClasses)
            } else {
                isCorrelated = e > configuration.threshold
            }
        }
        if !isCorrelated { hasOpened = true }
        if isCorrelated {
            closedSamples += 1
            if !hasOpened { warmupClosedSamples += 1 }
            if !wasCorrelated { closures += 1 }
        }
    }

    // MARK: - Codable: the ring is stored; histogram and repeats are recomputed from it.

    private enum CodingKeys: String, CodingKey {
        case configuration, ring, count, next, closedSamples, isCorrelated, warmupClosedSamples, closures, hasOpened
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let configuration = try c.decode(Configuration.self, forKey: .configuration)
        let ring = try c.decode([Int32].self, forKey: .ring)
        let count = try c.decode(Int.self, forKey: .count)
        let next = try c.decode(Int.self, forKey: .next)
        let closed = try c.decode(Int.self, forKey: .closedSamples)
        let correlated = try c.decode(Bool.self, forKey: .isCorrelated)
        let warmupClosed = try c.decodeIfPresent(Int.self, forKey: .warmupClosedSamples) ?? 0
        let closures = try c.decodeIfPresent(Int.self, forKey: .closures) ?? 0
        let opened = try c.decodeIfPresent(Bool.self, forKey: .hasOpened) ?? true
        let w = configuration.window
        guard ring.count == w, (0...w).contains(count), w == 0 || (0..<w).contains(next),
              count == w || next == count, closed >= 0, (0...closed).contains(warmupClosed), closures >= 0,
              opened || correlated,
              ring.allSatisfy({ (0..<Int32(configuration.classCount)).contains($0) }) else {
            throw corruptState(decoder, "label-correlation window does not match its configuration")
        }
        self.init(configuration: configuration)
        // Replay oldest first, then restore the exact ring layout.
        let start = count == w ? next : 0
        for k in 0..<count { try observe(Int(ring[(start + k) % w])) }
        self.ring = ring
        self.next = next
        closedSamples = closed
        isCorrelated = correlated
        warmupClosedSamples = warmupClosed
        self.closures = closures
        hasOpened = opened
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(configuration, forKey: .configuration)
        try c.encode(ring, forKey: .ring)
        try c.encode(count, forKey: .count)
        try c.encode(next, forKey: .next)
        try c.encode(closedSamples, forKey: .closedSamples)
        try c.encode(isCorrelated, forKey: .isCorrelated)
        try c.encode(warmupClosedSamples, forKey: .warmupClosedSamples)
        try c.encode(closures, forKey: .closures)
        try c.encode(hasOpened, forKey: .hasOpened)
    }
}
