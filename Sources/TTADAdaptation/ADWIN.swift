#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// ADWIN (ADaptive WINdowing; Bifet & Gavaldà, SDM 2007): a window over a scalar stream that
/// grows while the mean is stable and drops its older part when two sub-windows disagree.
///
/// Why: a detector with no window length to guess and a false-alarm bound δ — the daemon runs it
/// on the mean confidence, where changes range from abrupt (a lens covered) to slow (dusk).
///
/// The window W is kept as an exponential histogram (the paper's ADWIN2): buckets of 2ⁱ values,
/// at most M per size (M = 5), each summarising its values by their total and the sum of
/// squared deviations from their mean (merged and removed with the parallel-variance formulas of
/// Babcock et al. 2003). After each value, every split W = W₀·W₁ at a bucket boundary (W₀ older,
/// both at least `minSubwindowLength` long) is tested, and while some split has
///
///     |μ̂₀ − μ̂₁| > ε_cut = √( (2/m)·σ²_W·ln(2/δ') ) + (2/(3m))·ln(2/δ'),
///     m = 1/(1/n₀ + 1/n₁),  δ' = δ/n,  σ²_W = the variance of the values in W,
///
/// the oldest bucket is dropped and the splits are tested again. That is the paper's practical
/// (normal-approximation) ε_cut; the second term assumes values in [0, 1] (confidences,
/// disagreement indicators), as the paper does.
///
/// Differences from MOA and River, where this follows the paper:
/// - they use δ' = δ/ln n (`log(2·log(n)/δ)`) and 1/m = 1/(n₀−ℓ+1) + 1/(n₁−ℓ+1) with ℓ = 5;
///   here δ' = δ/n and the plain harmonic m, a stricter test (fewer false alarms, a few more
///   samples to detect);
/// - they test only every `clock` = 32 values; here `clock` defaults to 1 (every value);
/// - the minimum sub-window length of 5 is theirs (the paper has none); kept as a setting
///   because a one-value sub-window carries no evidence worth the test.
///
/// Non-finite values are ignored (counted). State is a few dozen buckets, O(M·log n).
public struct ADWIN: Codable, Equatable, Sendable {
    public struct Configuration: Codable, Equatable, Sendable {
        /// δ in (0, 1), the confidence (default 0.002).
        public let delta: Double
        /// M ≥ 2, buckets per size before two are merged (default 5).
        public let maxBucketsPerRow: Int
        /// Shortest W₀ or W₁ a split may have (default 5).
        public let minSubwindowLength: Int
        /// Test splits every `clock` values (default 1).
        public let clock: Int

        public init(delta: Double = 0.002, maxBucketsPerRow: Int = 5, minSubwindowLength: Int = 5,
                    clock: Int = 1) throws(AdaptationConfigurationError) {
            try Validate.open(delta, 0, 1, "ADWIN.delta")
            try Validate.atLeast(maxBucketsPerRow, 2, "ADWIN.maxBucketsPerRow")
            try Validate.atLeast(minSubwindowLength, 1, "ADWIN.minSubwindowLength")
            try Validate.atLeast(clock, 1, "ADWIN.clock")
            self.delta = delta
            self.maxBucketsPerRow = maxBucketsPerRow
            self.minSubwindowLength = minSubwindowLength
            self.clock = clock
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = try c.decode(Double.self, forKey: .delta)
            let m = try c.decode(Int.self, forKey: .maxBucketsPerRow)
            let l = try c.decode(Int.self, forKey: .minSubwindowLength)
            let k = try c.decode(Int.self, forKey: .clock)
            self = try decodingConfiguration(decoder) { () throws(AdaptationConfigurationError) in
                try Configuration(delta: d, maxBucketsPerRow: m, minSubwindowLength: l, clock: k)
            }
        }
    }

    /// A run of 2ⁱ consecutive values: their total and their sum of squared deviations from
    /// their own mean.
    public struct Bucket: Codable, Equatable, Sendable {
        public var total: Double
        public var variance: Double
    }

    public let configuration: Configuration
    /// rows[i] holds buckets of 2ⁱ values, oldest first; rows[0] is the newest data.
    public private(set) var rows: [[Bucket]] = [[]]
    /// n, values in the window.
    public private(set) var width = 0
    /// Σ x over the window.
    public private(set) var total = 0.0
    /// Σ (x − μ̂_W)² over the window.
    public private(set) var squaredDeviations = 0.0
    /// Values seen (not ignored) since creation.
    public private(set) var seen = 0
    /// Updates on which a change was detected.
    public private(set) var detections = 0
    public private(set) var ignoredNonFinite = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public var mean: Double { width > 0 ? total / Double(width) : 0 }
    /// σ²_W (population variance of the window).
    public var variance: Double { width > 0 ? squaredDeviations / Double(width) : 0 }
    public var bucketCount: Int { rows.reduce(0) { $0 + $1.count } }

    /// Adds a value; returns true when a change was detected (and the window shrunk).
    @discardableResult
    public mutating func update(_ x: Double) -> Bool {
        guard x.isFinite else {
            ignoredNonFinite += 1
            return false
        }
        insert(x)
        seen += 1
        guard seen % configuration.clock == 0 else { return false }
        var changed = false
        while width > 0, findCut() {
            dropOldestBucket()
            changed = true
        }
        if changed { detections += 1 }
        return changed
    }

    /// The ε_cut of a split into n₀ + n₁ = n values, at the current σ²_W.
    public func epsilonCut(n0: Int, n1: Int) -> Double {
        let n = Double(n0 + n1)
        let m = 1 / (1 / Double(n0) + 1 / Double(n1))
        let logTerm = log(2 * n / configuration.delta)          // ln(2/δ'), δ' = δ/n
        return (2 / m * variance * logTerm).squareRoot() + 2 / (3 * m) * logTerm
    }

    public mutating func removeAll() {
        rows = [[]]
        width = 0
        total = 0
        squaredDeviations = 0
    }

    // MARK: - Internals

    private mutating func insert(_ x: Double) {
        if width > 0 {
            let mu = total / Double(width)
            let n = Double(width)
            squaredDeviations += n * (x - mu) * (x - mu) / (n + 1)
        }
        width += 1
        total += x
        rows[0].append(Bucket(total: x, variance: 0))
        compress()
    }

    /// Merges the two oldest buckets of any row holding more than M into one of the next size.
    private mutating func compress() {
        var i = 0
        while i < rows.count, rows[i].count > configuration.maxBucketsPerRow {
            let a = rows[i][0], b = rows[i][1]
            let size = Double(1 << i)
            let ma = a.total / size, mb = b.total / size
            let merged = Bucket(total: a.total + b.total,
                                variance: a.variance + b.variance + size * size * (ma - mb) * (ma - mb) / (2 * size))
            rows[i].removeFirst(2)
            if i + 1 == rows.count { rows.append([]) }
            rows[i + 1].append(merged)          // newer than everything already in row i+1
            i += 1
        }
    }

    private mutating func dropOldestBucket() {
        let r = rows.count - 1
        let bucket = rows[r].removeFirst()
        let n = Double(1 << r)
        width -= 1 << r
        total -= bucket.total
        if width == 0 {
            squaredDeviations = 0
            total = 0
        } else {
            let rest = Double(width)
            let muBucket = bucket.total / n, muRest = total / rest
            squaredDeviations -= bucket.variance + n * rest * (muBucket - muRest) * (muBucket - muRest) / (n + rest)
            squaredDeviations = Swift.max(0, squaredDeviations)   // rounding can leave −1e−16
        }
        while rows.count > 1 && rows[rows.count - 1].isEmpty { rows.removeLast() }
    }

    /// Whether some split at a bucket boundary violates ε_cut.
    private func findCut() -> Bool {
        let minLength = configuration.minSubwindowLength
        guard width >= 2 * minLength else { return false }
        var n0 = 0, u0 = 0.0
        for r in stride(from: rows.count - 1, through: 0, by: -1) {
            let size = 1 << r
            for bucket in rows[r] {
                n0 += size
                u0 += bucket.total
                let n1 = width - n0
                if n1 < minLength { return false }
                if n0 < minLength { continue }
                let diff = u0 / Double(n0) - (total - u0) / Double(n1)
                if abs(diff) > epsilonCut(n0: n0, n1: n1) { return true }
            }
        }
        return false
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        configuration = try c.decode(Configuration.self, forKey: .configuration)
        rows = try c.decode([[Bucket]].self, forKey: .rows)
        width = try c.decode(Int.self, forKey: .width)
        total = try c.decode(Double.self, forKey: .total)
        squaredDeviations = try c.decode(Double.self, forKey: .squaredDeviations)
        seen = try c.decode(Int.self, forKey: .seen)
        detections = try c.decode(Int.self, forKey: .detections)
        ignoredNonFinite = try c.decode(Int.self, forKey: .ignoredNonFinite)
        var n = 0
        for (i, row) in rows.enumerated() {
            guard i < 62, row.count <= configuration.maxBucketsPerRow,
                  row.allSatisfy({ $0.total.isFinite && $0.variance.isFinite && $0.variance >= 0 }) else {
                throw corruptState(decoder, "ADWIN row \(i) is invalid")
            }
            n += row.count << i
        }
        guard !rows.isEmpty, rows.count == 1 || !rows[rows.count - 1].isEmpty, n == width, total.isFinite, squaredDeviations.isFinite, squaredDeviations >= 0,
              seen >= 0, detections >= 0, ignoredNonFinite >= 0 else {
            throw corruptState(decoder, "ADWIN totals do not match its buckets")
        }
    }
}
