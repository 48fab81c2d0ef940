#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Label-free scores of how unlike the known classes a sample looks. Convention for every score
/// here: **higher = more outlier-like**, so one threshold rule ("flag if score > t") and one
/// calibrator serve them all.
///
/// Why several: calibration.md found near-OOD barely separable on the small CLIP (AUROC
/// 0.55–0.58) and raw max-cosine better than entropy (0.74 vs 0.69) at its low logit scale;
/// which score wins depends on the model, so it is a setting.
///
/// - `entropyOfMean`: H(p̄), the entropy in nats of the view-averaged class distribution.
///   STAMP's score is s = −H(p̄) with *higher = in-distribution* (it feeds `roc_auc_score(is_ID,
///   s)`); this is its negation, so it ranks samples identically with the direction flipped.
///   With one view it is the plain prediction entropy.
/// - `maxCosine`: 1 − maxₖ cos(f, t_k), from the raw cosines before the logit scale.
/// - `energy`: E(z) = −T · log Σₖ exp(z_k / T) (Liu et al., 2020), from the logits; in-
///   distribution samples have large logits and so low (very negative) energy.
///
/// All functions compute in Double, never allocate, and return NaN for empty input or when any
/// input is NaN (a NaN score must never pass as "in-distribution": the calibrator and the
/// admission treat it as an outlier).
public enum OutlierScore {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case entropyOfMean
        case maxCosine
        case energy
    }

    /// Which score the daemon computes, and the energy temperature T (default 1; only used by
    /// `energy`).
    public struct Configuration: Codable, Equatable, Sendable {
        public let kind: Kind
        public let temperature: Double

        public init(kind: Kind = .entropyOfMean, temperature: Double = 1) throws(AdaptationConfigurationError) {
            try Validate.positive(temperature, "OutlierScore.temperature")
            self.kind = kind
            self.temperature = temperature
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let kind = try c.decode(Kind.self, forKey: .kind)
            let t = try c.decode(Double.self, forKey: .temperature)
            self = try decodingConfiguration(decoder) { () throws(AdaptationConfigurationError) in
                try Configuration(kind: kind, temperature: t)
            }
        }
    }

    /// H(p̄) in nats, p̄ = mean over `viewCount` rows of a row-major viewCount × C matrix of
    /// probabilities. `probabilities.count` must be a positive multiple of `viewCount`.
    public static func entropyOfMean(probabilities: UnsafeBufferPointer<Float>, viewCount: Int) -> Float {
        precondition(viewCount >= 1 && probabilities.count % viewCount == 0,
                     "OutlierScore.entropyOfMean: \(probabilities.count) values for \(viewCount) views")
        guard probabilities.count > 0, let base = probabilities.baseAddress else { return .nan }
        let classCount = probabilities.count / viewCount
        let scale = 1 / Double(viewCount)
        var h = 0.0
        for c in 0..<classCount {
            var sum = 0.0
            var p = base + c
            for _ in 0..<viewCount {
                sum += Double(p.pointee)
                p += classCount
            }
            let m = sum * scale
            if m.isNaN { return .nan }
            if m > 0 { h -= m * log(m) }
        }
        return Float(h == 0 ? 0 : h)
    }

    /// Array convenience (tests, non-hot callers).
    public static func entropyOfMean(probabilities: [Float], viewCount: Int = 1) -> Float {
        probabilities.withUnsafeBufferPointer { entropyOfMean(probabilities: $0, viewCount: viewCount) }
    }

    /// 1 − the largest cosine similarity.
    public static func maxCosine(cosines: UnsafeBufferPointer<Float>) -> Float {
        guard !cosines.isEmpty else { return .nan }
        var best = -Float.infinity
        for c in cosines {
            if c.isNaN { return .nan }
            if c > best { best = c }
        }
        return Float(1 - Double(best))
    }

    public static func maxCosine(cosines: [Float]) -> Float {
        cosines.withUnsafeBufferPointer { maxCosine(cosines: $0) }
    }

    /// −T · log Σ exp(z/T), stable (shifted by the maximum). T must be > 0.
    public static func energy(logits: UnsafeBufferPointer<Float>, temperature: Double = 1) -> Float {
        precondition(temperature > 0 && temperature.isFinite, "OutlierScore.energy: temperature \(temperature)")
        guard !logits.isEmpty else { return .nan }
        var m = -Double.infinity
        for z in logits {
            if z.isNaN { return .nan }
            m = Swift.max(m, Double(z) / temperature)
        }
        if !m.isFinite { return Float(-temperature * m) }       // all −∞ → +∞; any +∞ → −∞
        var s = 0.0
        for z in logits { s += exp(Double(z) / temperature - m) }
        return Float(-temperature * (m + log(s)))
    }

    public static func energy(logits: [Float], temperature: Double = 1) -> Float {
        logits.withUnsafeBufferPointer { energy(logits: $0, temperature: temperature) }
    }
}
