/// One prediction as `ttad eval` scores it: what the daemon published, reduced to what the
/// metrics need, plus the time it arrived.
public struct EvalPrediction: Sendable, Equatable {
    public var id: String
    /// Echoed ground-truth class index; nil when the input carried no (index) label.
    public var label: Int?
    /// Top-1 class index; nil when the prediction had an empty `top`.
    public var predicted: Int?
    /// Entropy of the predictive distribution, nats.
    public var entropy: Double
    /// Probability of the top-1 class (what calibration error compares with accuracy); nil
    /// when unknown (a predictions file written before it was recorded).
    public var confidence: Double?
    /// The daemon's outlier decision.
    public var outlier: Bool
    /// The score behind the decision (higher = more unusual).
    public var outlierScore: Double?
    public var latencySeconds: Double?
    /// Arrival time at the evaluator, seconds on any monotonic clock; NaN when unknown (read back
    /// from an earlier run), which keeps the prediction out of the samples/s rate.
    public var arrivalSeconds: Double

    public init(id: String, label: Int?, predicted: Int?, entropy: Double, confidence: Double? = nil, outlier: Bool = false,
                outlierScore: Double? = nil, latencySeconds: Double? = nil, arrivalSeconds: Double = 0) {
        self.id = id
        self.label = label
        self.predicted = predicted
        self.entropy = entropy
        self.confidence = confidence
        self.outlier = outlier
        self.outlierScore = outlierScore
        self.latencySeconds = latencySeconds
        self.arrivalSeconds = arrivalSeconds
    }
}

public struct EvalOptions: Sendable, Equatable {
    /// Labels below this are the model's classes; labels at or above it are unknown-class
    /// outliers (Fashion-MNIST: 8, with bag = 8 and ankle boot = 9 held out).
    public var knownClasses: Int
    /// Samples per accuracy window.
    public var window: Int

    public init(knownClasses: Int = 8, window: Int = 1000) {
        precondition(knownClasses > 0 && window > 0)
        self.knownClasses = knownClasses
        self.window = window
    }
}

/// Accuracy of one domain (all samples whose id names it, across cycles of a long stream).
public struct DomainStat: Sendable, Equatable, Codable {
    public var domain: String
    /// Position of the domain's first sample.
    public var firstPosition: Int
    public var samples: Int
    /// Samples with a known-class label, and how many of them the top-1 got right.
    public var known: Int
    public var correct: Int
    public var accuracy: Double?
    /// Samples with an unknown-class label.
    public var outliers: Int
    public var meanEntropy: Double?
    /// Expected calibration error (15 bins) over the domain's known-class samples.
    public var ece: Double?
}

/// One window of the stream (positions `start ..< end`).
public struct WindowStat: Sendable, Equatable, Codable {
    public var index: Int
    public var start: Int
    public var end: Int
    public var samples: Int
    public var known: Int
    public var correct: Int
    public var accuracy: Double?
    public var meanEntropy: Double?
    /// Fraction of the window's samples the daemon flagged as outliers.
    public var outlierFlagRate: Double?
    /// Domain of the window's first sample.
    public var domain: String?
}

public struct LatencyStats: Sendable, Equatable, Codable {
    public var count: Int
    public var mean: Double
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var max: Double
}

/// Open-set scores. Positives are unknown-class samples (label ≥ known classes).
public struct OutlierStats: Sendable, Equatable, Codable {
    public var knownSamples: Int
    public var outlierSamples: Int
    /// AUROC of `outlier_score` for telling unknown-class from known-class samples, over the
    /// labelled samples that carry a score.
    public var auroc: Double?
    public var scoredSamples: Int
    /// Known-class samples classified correctly *and* not flagged as outliers, over known-class
    /// samples: the known accuracy of the H-score.
    public var knownAcceptedAccuracy: Double?
    /// Unknown-class samples flagged as outliers, over unknown-class samples.
    public var rejectionAccuracy: Double?
    /// Harmonic mean of the two above.
    public var hScore: Double?
    /// Known-class samples flagged as outliers, over known-class samples.
    public var falseRejectionRate: Double?
}

public struct EvalReport: Sendable, Equatable, Codable {
    public var knownClasses: Int
    public var window: Int
    public var predictions: Int
    public var errors: Int
    public var errorsByReason: [String: Int]
    /// Predictions without an index label (not scored for accuracy).
    public var unlabeled: Int
    /// Predictions whose id is not `<domain>|<position>` (grouped under domain "?").
    public var unparsedIDs: Int
    /// Online top-1 accuracy over known-class samples.
    public var known: Int
    public var correct: Int
    public var accuracy: Double?
    public var meanEntropy: Double?
    /// Expected calibration error (15 equal-width confidence bins) of the top-1 prediction over
    /// the known-class samples that carry a confidence: 0 when confidence matches accuracy.
    public var ece: Double?
    public var domains: [DomainStat]
    /// Per stream of a camera group (domains named `<stream>/<domain>`); empty otherwise.
    public var streams: [StreamStat] = []
    public var windows: [WindowStat]
    public var outliers: OutlierStats
    public var latency: LatencyStats?
    /// First to last arrival, seconds.
    public var durationSeconds: Double
    /// Outputs (predictions and errors) per second over the run.
    public var samplesPerSecond: Double?
}

public enum Evaluator {
    /// Scores `predictions` (any order; sorted by stream position when ids carry one) with the
    /// error records' reasons.
    public static func evaluate(_ predictions: [EvalPrediction], errorReasons: [String] = [],
                                options: EvalOptions = EvalOptions()) -> EvalReport {
        let k = options.knownClasses
        // Order by position (ids from `ttad stream`), else by arrival.
        var keyed: [(position: Int, domain: String, p: EvalPrediction)] = []
        keyed.reserveCapacity(predictions.count)
        var unparsed = 0
        for (i, p) in predictions.enumerated() {
            if let sid = StreamSampleID(parsing: p.id) {
                keyed.append((sid.position, sid.domain, p))
            } else {
                unparsed += 1
                keyed.append((i, "?", p))
            }
        }
        keyed.sort { $0.position < $1.position }

        var known = 0, correct = 0, unlabeled = 0
        var entropySum = 0.0
        var domainIndex: [String: Int] = [:]
        var domains: [DomainStat] = []
        var domainEntropy: [Double] = []
        var windows: [WindowStat] = []
        var windowEntropy: [Double] = []
        var windowFlags: [Int] = []
        var scores: [Double] = [], positives: [Bool] = []
        var outlierSamples = 0, rejected = 0, knownAccepted = 0, falseRejections = 0
        var latencies: [Double] = []
        // Known-class samples with a confidence, overall and per domain: (confidence, correct).
        var calibration = CalibrationBins()
        var domainCalibration: [CalibrationBins] = []

        for (position, domain, p) in keyed {
            entropySum += p.entropy
            let isKnown = p.label.map { $0 < k } ?? false
            let isOutlier = p.label.map { $0 >= k } ?? false
            let hit = isKnown && p.predicted == p.label
            if p.label == nil { unlabeled += 1 }
            if isKnown {
                known += 1
                if hit { correct += 1 }
                if hit && !p.outlier { knownAccepted += 1 }
                if p.outlier { falseRejections += 1 }
            }
            if isOutlier {
                outlierSamples += 1
                if p.outlier { rejected += 1 }
            }
            if p.label != nil, let s = p.outlierScore {
                scores.append(s)
                positives.append(isOutlier)
            }
            if let l = p.latencySeconds, l.isFinite { latencies.append(l) }

            // Domain.
            let di: Int
            if let d = domainIndex[domain] { di = d } else {
                di = domains.count
                domainIndex[domain] = di
                domains.append(DomainStat(domain: domain, firstPosition: position, samples: 0, known: 0, correct: 0,
                                          accuracy: nil, outliers: 0, meanEntropy: nil, ece: nil))
                domainEntropy.append(0)
                domainCalibration.append(CalibrationBins())
            }
            if isKnown, let c = p.confidence, c.isFinite {
                calibration.add(confidence: c, correct: hit)
                domainCalibration[di].add(confidence: c, correct: hit)
            }
            domains[di].samples += 1
            domainEntropy[di] += p.entropy
            if isKnown { domains[di].known += 1; if hit { domains[di].correct += 1 } }
            if isOutlier { domains[di].outliers += 1 }

            // Window (by position, so a lost sample does not shift later windows).
            let w = position / options.window
            if windows.last?.index != w {
                windows.append(WindowStat(index: w, start: w * options.window, end: (w + 1) * options.window,
                                          samples: 0, known: 0, correct: 0, accuracy: nil, meanEntropy: nil,
                                          outlierFlagRate: nil, domain: domain))
                windowEntropy.append(0)
                windowFlags.append(0)
            }
            let wi = windows.count - 1
            windows[wi].samples += 1
            windowEntropy[wi] += p.entropy
            if p.outlier { windowFlags[wi] += 1 }
            if isKnown { windows[wi].known += 1; if hit { windows[wi].correct += 1 } }
        }
        for i in domains.indices {
            domains[i].accuracy = Metrics.ratio(domains[i].correct, domains[i].known)
            domains[i].meanEntropy = domains[i].samples > 0 ? domainEntropy[i] / Double(domains[i].samples) : nil
            domains[i].ece = domainCalibration[i].expectedCalibrationError
        }
        for i in windows.indices {
            windows[i].accuracy = Metrics.ratio(windows[i].correct, windows[i].known)
            windows[i].meanEntropy = windowEntropy[i] / Double(windows[i].samples)
            windows[i].outlierFlagRate = Metrics.ratio(windowFlags[i], windows[i].samples)
        }

        let knownAccepted_ = Metrics.ratio(knownAccepted, known)
        let rejection = Metrics.ratio(rejected, outlierSamples)
        let outliers = OutlierStats(
            knownSamples: known, outlierSamples: outlierSamples,
            auroc: Metrics.auroc(scores: scores, positives: positives), scoredSamples: scores.count,
            knownAcceptedAccuracy: knownAccepted_, rejectionAccuracy: rejection,
            hScore: Metrics.hScore(knownAccuracy: knownAccepted_, rejectionAccuracy: rejection),
            falseRejectionRate: Metrics.ratio(falseRejections, known))

        var latency: LatencyStats? = nil
        if !latencies.isEmpty {
            latencies.sort()
            latency = LatencyStats(count: latencies.count, mean: latencies.reduce(0, +) / Double(latencies.count),
                                   p50: Metrics.percentile(sorted: latencies, 50)!,
                                   p90: Metrics.percentile(sorted: latencies, 90)!,
                                   p99: Metrics.percentile(sorted: latencies, 99)!, max: latencies.last!)
        }

        var byReason: [String: Int] = [:]
        for r in errorReasons { byReason[r, default: 0] += 1 }
        // Non-finite arrivals (predictions read back from an earlier run) say nothing of speed.
        let arrivals = predictions.map(\.arrivalSeconds).filter(\.isFinite)
        let duration = (arrivals.max() ?? 0) - (arrivals.min() ?? 0)
        let outputs = arrivals.count + errorReasons.count
        let rate: Double? = duration > 0 && outputs > 1 ? Double(outputs - 1) / duration : nil

        return EvalReport(knownClasses: k, window: options.window, predictions: predictions.count,
                          errors: errorReasons.count, errorsByReason: byReason, unlabeled: unlabeled,
                          unparsedIDs: unparsed, known: known, correct: correct,
                          accuracy: Metrics.ratio(correct, known),
                          meanEntropy: predictions.isEmpty ? nil : entropySum / Double(predictions.count),
                          ece: calibration.expectedCalibrationError,
                          domains: domains, streams: StreamStat.group(domains), windows: windows, outliers: outliers, latency: latency,
                          durationSeconds: duration, samplesPerSecond: rate)
    }
}
