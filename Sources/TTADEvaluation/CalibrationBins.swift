/// Expected calibration error: the top-1 confidences split into equal-width bins over [0, 1]
/// (15, as Guo et al. 2017 and the CLIP test-time adaptation papers report it); ECE is the
/// sample-weighted mean over bins of |accuracy − mean confidence|. Accumulates, so a stream is
/// scored in one pass.
public struct CalibrationBins: Sendable, Equatable {
    public let bins: Int
    private(set) var counts: [Int]
    private(set) var correct: [Int]
    private(set) var confidenceSums: [Double]

    public init(bins: Int = 15) {
        precondition(bins > 0)
        self.bins = bins
        counts = Array(repeating: 0, count: bins)
        correct = counts
        confidenceSums = Array(repeating: 0, count: bins)
    }

    /// Adds one prediction; a confidence outside [0, 1] is clamped into it.
    public mutating func add(confidence: Double, correct isCorrect: Bool) {
        let c = Swift.min(Swift.max(confidence, 0), 1)
        // Bin b holds (b/B, (b+1)/B]; 0 goes to the first bin.
        let b = Swift.min(bins - 1, Swift.max(0, Int((c * Double(bins)).rounded(.up)) - 1))
        counts[b] += 1
        if isCorrect { correct[b] += 1 }
        confidenceSums[b] += c
    }

    public var samples: Int { counts.reduce(0, +) }

    /// Nil before any sample.
    public var expectedCalibrationError: Double? {
        let n = samples
        guard n > 0 else { return nil }
        var e = 0.0
        for b in 0..<bins where counts[b] > 0 {
            let k = Double(counts[b])
            e += k / Double(n) * abs(Double(correct[b]) / k - confidenceSums[b] / k)
        }
        return e
    }
}
