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
public struct LabelCorrelationGate: Codable, Equatable, Sendable {
    public struct Configuration: Codable, Equatable, Sendable {
        public let classCount: Int
        /// W; 0 disables the gate (it never closes).
        public let window: Int
        /// Excess above which the stream counts as label-correlated (the gate closes).
        public let threshold: Double
        /// Excess below which a closed gate opens again (≤ threshold).
        public let reopenThreshold: Double

        public init(classCount: Int, window: Int = 2048, threshold: Double = 0.15,
                    reopenThreshold: Double = 0.10) throws(AdaptationConfigurationError) {
            try Validate.atLeast(classCount, 2, "LabelCorrelationGate.classCount")
            if window != 0 { try Validate.atLeast(window, 16, "LabelCorrelationGate.window") }
            try Validate.open(threshold, 0, 1, "LabelCorrelationGate.threshold")
            try Validate.closed(reopenThreshold, -1, threshold, "LabelCorrelationGate.reopenThreshold")
            self.classCount = classCount
            self.window = window
            self.threshold = threshold
            self.reopenThreshold = reopenThreshold
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let classCount = try c.decode(Int.self, forKey: .classCount)
            let window = try c.decode(Int.self, forKey: .window)
            let threshold = try c.decode(Double.self, forKey: .threshold)
            let reopen = try c.decode(Double.self, forKey: .reopenThreshold)
            self = try decodingConfiguration(decoder) { () throws(AdaptationConfigurationError) in
                try Configuration(classCount: classCount, window: window, threshold: threshold, reopenThreshold: reopen)
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
    /// Samples observed while the gate was closed (checkpointed; a metric).
    public private(set) var closedSamples = 0
    // Ring of the window's classes; slot `next` is overwritten next.
    private var ring: [Int32]
    private var next = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
        histogram = [Int](repeating: 0, count: configuration.classCount)
        ring = [Int32](repeating: 0, count: configuration.window)
    }

    public var isEnabled: Bool { configuration.window > 0 }

    /// The excess of equal neighbours over Σ p̂²; nil until the window is full.
    public var excess: Double? {
        let w = configuration.window
        guard w > 0, count == w else { return nil }
        return Double(repeats) / Double(w - 1) - Double(sumOfSquares) / (Double(w) * Double(w))
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
        if let e = excess {
            if isCorrelated { isCorrelated = e >= configuration.reopenThreshold } else { isCorrelated = e > configuration.threshold }
        }
        if isCorrelated { closedSamples += 1 }
    }

    // MARK: - Codable: the ring is stored; histogram and repeats are recomputed from it.

    private enum CodingKeys: String, CodingKey { case configuration, ring, count, next, closedSamples, isCorrelated }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let configuration = try c.decode(Configuration.self, forKey: .configuration)
        let ring = try c.decode([Int32].self, forKey: .ring)
        let count = try c.decode(Int.self, forKey: .count)
        let next = try c.decode(Int.self, forKey: .next)
        let closed = try c.decode(Int.self, forKey: .closedSamples)
        let correlated = try c.decode(Bool.self, forKey: .isCorrelated)
        let w = configuration.window
        guard ring.count == w, (0...w).contains(count), w == 0 || (0..<w).contains(next),
              count == w || next == count, closed >= 0,
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
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(configuration, forKey: .configuration)
        try c.encode(ring, forKey: .ring)
        try c.encode(count, forKey: .count)
        try c.encode(next, forKey: .next)
        try c.encode(closedSamples, forKey: .closedSamples)
        try c.encode(isCorrelated, forKey: .isCorrelated)
    }
}
