#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The last W predicted classes of the adapted model, with the frozen model's class for the
/// same samples when there was one, kept as running histograms.
///
/// Why a part of its own: the collapse guard and the drift monitor both ask "how many classes
/// does the adapted model still predict?", "how often does it disagree with the frozen model?"
/// over a sliding window. Keeping histograms up to date per sample makes each question O(C)
/// with no allocation, and the same code answers both.
public struct PredictionWindow: Codable, Equatable, Sendable {
    /// W, the number of samples kept.
    public let capacity: Int
    public let classCount: Int
    /// Samples currently in the window (≤ W).
    public private(set) var count: Int
    /// Per-class counts of the adapted predictions in the window.
    public private(set) var adaptedHistogram: [Int]
    /// Per-class counts of the frozen predictions in the window (samples without one excluded).
    public private(set) var frozenHistogram: [Int]
    /// Samples in the window that have a frozen prediction.
    public private(set) var frozenCount: Int
    /// Samples in the window whose adapted and frozen classes differ.
    public private(set) var disagreements: Int
    // Ring storage: slot `next` is overwritten next; −1 marks "no frozen prediction".
    private var adapted: [Int32]
    private var frozen: [Int32]
    private var next: Int

    public init(capacity: Int, classCount: Int) throws(AdaptationConfigurationError) {
        try Validate.atLeast(capacity, 1, "PredictionWindow.capacity")
        try Validate.inRange(classCount, 1...Int(Int32.max), "PredictionWindow.classCount")
        self.capacity = capacity
        self.classCount = classCount
        count = 0
        adaptedHistogram = [Int](repeating: 0, count: classCount)
        frozenHistogram = [Int](repeating: 0, count: classCount)
        frozenCount = 0
        disagreements = 0
        adapted = [Int32](repeating: 0, count: capacity)
        frozen = [Int32](repeating: -1, count: capacity)
        next = 0
    }

    public var isFull: Bool { count == capacity }

    /// Adds a sample, dropping the oldest when full. Throws (changing nothing) on a class
    /// outside 0..<C.
    public mutating func append(adapted a: Int, frozen f: Int?) throws(AdaptationInputError) {
        try Validate.classIndex(a, classCount, "PredictionWindow adapted class")
        if let f { try Validate.classIndex(f, classCount, "PredictionWindow frozen class") }
        if count == capacity {
            let oldA = Int(adapted[next]), oldF = Int(frozen[next])
            adaptedHistogram[oldA] -= 1
            if oldF >= 0 {
                frozenHistogram[oldF] -= 1
                frozenCount -= 1
                if oldF != oldA { disagreements -= 1 }
            }
        } else {
            count += 1
        }
        adapted[next] = Int32(a)
        frozen[next] = Int32(f ?? -1)
        adaptedHistogram[a] += 1
        if let f {
            frozenHistogram[f] += 1
            frozenCount += 1
            if f != a { disagreements += 1 }
        }
        next = next + 1 == capacity ? 0 : next + 1
    }

    public mutating func removeAll() {
        count = 0
        for i in adaptedHistogram.indices { adaptedHistogram[i] = 0; frozenHistogram[i] = 0 }
        for i in frozen.indices { frozen[i] = -1; adapted[i] = 0 }
        frozenCount = 0
        disagreements = 0
        next = 0
    }

    /// Fraction of the window's samples with a frozen prediction that disagree with it; nil if
    /// none has one.
    public var disagreementRate: Double? {
        frozenCount > 0 ? Double(disagreements) / Double(frozenCount) : nil
    }

    /// Number of classes whose share of `histogram` is at least `minimumShare` (a class needs
    /// count/total ≥ share; a histogram of total 0 has 0 such classes).
    public static func classesWithShare(atLeast minimumShare: Double, in histogram: [Int]) -> Int {
        let total = histogram.reduce(0, +)
        guard total > 0 else { return 0 }
        var n = 0
        for c in histogram where c > 0 && Double(c) >= minimumShare * Double(total) { n += 1 }
        return n
    }

    /// Share of the most frequent class in `histogram` (0 for an empty histogram).
    public static func topShare(of histogram: [Int]) -> Double {
        let total = histogram.reduce(0, +)
        guard total > 0 else { return 0 }
        return Double(histogram.max() ?? 0) / Double(total)
    }

    /// Jensen–Shannon divergence in bits (0 = same distribution, 1 = disjoint) between two
    /// histograms of equal length, each normalised to sum 1; 0 if either is empty. Also what
    /// `ttad demo` prints as drift, so its table and the live metrics agree.
    public static func jensenShannonBits(_ a: [Int], _ b: [Int]) -> Double {
        precondition(a.count == b.count, "histograms of different lengths")
        let sa = Double(a.reduce(0, +)), sb = Double(b.reduce(0, +))
        guard sa > 0, sb > 0 else { return 0 }
        var js = 0.0
        for i in a.indices {
            let p = Double(a[i]) / sa, q = Double(b[i]) / sb
            let m = 0.5 * (p + q)
            if p > 0 { js += 0.5 * p * log2(p / m) }
            if q > 0 { js += 0.5 * q * log2(q / m) }
        }
        return Swift.max(0, Swift.min(1, js))
    }

    // MARK: - Codable: the ring is stored; the histograms are recomputed and must match.

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let capacity = try c.decode(Int.self, forKey: .capacity)
        let classCount = try c.decode(Int.self, forKey: .classCount)
        let adapted = try c.decode([Int32].self, forKey: .adapted)
        let frozen = try c.decode([Int32].self, forKey: .frozen)
        let count = try c.decode(Int.self, forKey: .count)
        let next = try c.decode(Int.self, forKey: .next)
        self = try decodingConfiguration(decoder) { () throws(AdaptationConfigurationError) in
            try PredictionWindow(capacity: capacity, classCount: classCount)
        }
        guard adapted.count == capacity, frozen.count == capacity, (0...capacity).contains(count),
              (0..<capacity).contains(next), count == capacity || next == count else {
            throw corruptState(decoder, "prediction window ring does not match its capacity")
        }
        // Replay the stored samples oldest first.
        let start = count == capacity ? next : 0
        for k in 0..<count {
            let i = (start + k) % capacity
            let a = Int(adapted[i]), f = Int(frozen[i])
            guard (0..<classCount).contains(a), f == -1 || (0..<classCount).contains(f) else {
                throw corruptState(decoder, "prediction window holds a class outside 0..<\(classCount)")
            }
            try append(adapted: a, frozen: f < 0 ? nil : f)
        }
        // Restore the exact ring layout (replay may have rotated it).
        self.adapted = adapted
        self.frozen = frozen
        self.next = next
        for i in count..<capacity { self.adapted[i] = 0; self.frozen[i] = -1 }
        guard self.adapted == adapted, self.frozen == frozen else {
            throw corruptState(decoder, "prediction window has data beyond its count")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(capacity, forKey: .capacity)
        try c.encode(classCount, forKey: .classCount)
        try c.encode(adapted, forKey: .adapted)
        try c.encode(frozen, forKey: .frozen)
        try c.encode(count, forKey: .count)
        try c.encode(next, forKey: .next)
    }

    private enum CodingKeys: String, CodingKey { case capacity, classCount, adapted, frozen, count, next }
}
