import Foundation

/// Keeps the adapted model's published confidence anchored to the source model's on the same
/// samples: one temperature T divides the adapted logits before the softmax that is published,
/// and follows the stream so that the adapted top-1 probability matches, on average, the
/// probability the source model gives the adapted prediction on the same samples (its own
/// top-1 probability where the two agree; less where adaptation changed the class, so a model
/// that changes many predictions is not published more sure of them than the source was).
///
/// Why: entropy minimisation sharpens the adapted model's distribution faster than it makes it
/// right, so its confidence overshoots its accuracy (measured: expected calibration error
/// 0.195 → 0.207 on the continual stream, docs/benchmarks.md). The source model is the one
/// reference adaptation cannot bend; matching its confidence level while keeping the adapted
/// ranking and prediction (T > 0 never changes the arg-max) gives a model that is right more
/// often at the confidence the source had, which on shifted streams (where the source is
/// over-confident) lowers the error, and on clean ones keeps it.
///
/// The update is a stochastic approximation on log T, once per sample:
/// `log T ← log T + η_k · (p̂_adapted(T) − p̂_source)`, clamped to [−`maxLog`, `maxLog`], with
/// η_k = max(`rate`, 5/(k + 5)) at the k-th sample since the last `reset`. It settles where the
/// mean adapted confidence at T equals the source's (the adapted confidence falls as T grows);
/// the 5/(k + 5) start (a Robbins–Monro schedule; 1/k converges too slowly where the confidence
/// moves by only ~0.2 per unit of log T) lets T catch up at once when the adapted model starts to differ from the
/// source (measured: with `rate` alone, 278 adapted samples at the end of a stream left the
/// error above frozen's on that domain), and `rate` then keeps it following the stream, with
/// a time constant of about 1/(η·s) samples for a confidence slope s.
public struct ConfidenceAnchor: Codable, Equatable, Sendable {
    public struct Configuration: Codable, Equatable, Sendable {
        /// η; 0 turns the anchor off (T stays 1).
        public let rate: Double
        /// |log T| never exceeds this.
        public let maxLog: Double

        public init(rate: Double = 0.02, maxLog: Double = log(8)) throws(AdaptationConfigurationError) {
            try Validate.closed(rate, 0, 1, "ConfidenceAnchor.rate")
            try Validate.open(maxLog, 0, 10, "ConfidenceAnchor.maxLog")
            self.rate = rate
            self.maxLog = maxLog
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let rate = try c.decode(Double.self, forKey: .rate)
            let maxLog = try c.decode(Double.self, forKey: .maxLog)
            self = try decodingConfiguration(decoder) { () throws(AdaptationConfigurationError) in
                try Configuration(rate: rate, maxLog: maxLog)
            }
        }
    }

    public let configuration: Configuration
    public private(set) var logTemperature: Double = 0
    /// Samples observed since the last reset (checkpointed).
    public private(set) var observed = 0

    public init(configuration: Configuration) { self.configuration = configuration }

    public var isEnabled: Bool { configuration.rate > 0 }

    /// T: the adapted logits are divided by it before the published softmax.
    public var temperature: Float { Float(exp(logTemperature)) }

    /// One sample: the adapted top-1 probability at the current temperature and the source
    /// model's probability of that class on the same sample. Non-finite input changes nothing.
    public mutating func observe(adaptedConfidence a: Double, sourceConfidence s: Double) {
        guard isEnabled, a.isFinite, s.isFinite else { return }
        let m = configuration.maxLog
        let eta = max(configuration.rate, 5 / Double(observed + 5))
        logTemperature = min(max(logTemperature + eta * (a - s), -m), m)
        observed += 1
    }

    /// Back to T = 1 and the fast start (the adapted parameters are the source's again).
    public mutating func reset() {
        logTemperature = 0
        observed = 0
    }

    /// Divides `logits` by T in place.
    public func scale(_ logits: UnsafeMutableBufferPointer<Float>) {
        let inv = 1 / temperature
        for i in logits.indices { logits[i] *= inv }
    }

    private enum CodingKeys: String, CodingKey { case configuration, logTemperature, observed }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let configuration = try c.decode(Configuration.self, forKey: .configuration)
        let l = try c.decode(Double.self, forKey: .logTemperature)
        let n = try c.decode(Int.self, forKey: .observed)
        guard l.isFinite, abs(l) <= configuration.maxLog, n >= 0 else {
            throw corruptState(decoder, "confidence anchor's temperature is outside its bounds")
        }
        self.configuration = configuration
        logTemperature = l
        observed = n
    }
}
