/// Alarms raised by one `DriftMonitor.observe` call.
public struct DriftAlarms: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Page–Hinkley on the per-sample entropy.
    public static let entropy = DriftAlarms(rawValue: 1)
    /// ADWIN on the per-sample confidence.
    public static let confidence = DriftAlarms(rawValue: 2)
}

/// What the drift monitor knows at one moment; the daemon exports it as metrics and as the
/// `drift` message. Optional values are nil when they cannot be computed yet (nothing observed,
/// reference window incomplete, no embeddings or no frozen predictions).
public struct DriftSnapshot: Codable, Equatable, Sendable {
    /// Samples observed (non-finite ones excluded).
    public let sampleCount: Int
    /// Samples in the current window (≤ W).
    public let windowCount: Int
    /// Mean prediction entropy (nats) over the window.
    public let meanEntropy: Double?
    /// Mean confidence (max probability) over the window.
    public let meanConfidence: Double?
    /// Jensen–Shannon divergence (bits, 0…1) of the window's predicted-class histogram from the
    /// reference window's.
    public let classDivergence: Double?
    /// ‖mean embedding of the window − mean embedding of the reference‖₂.
    public let embeddingShift: Double?
    /// Fraction of the window's samples with a frozen prediction where adapted ≠ frozen.
    public let disagreementRate: Double?
    /// True once the first W samples (the reference) have been seen.
    public let referenceComplete: Bool
    /// Page–Hinkley alarmed on one of the last W samples.
    public let entropyAlarm: Bool
    /// ADWIN detected a change on one of the last W samples.
    public let confidenceAlarm: Bool
    public let entropyAlarmCount: Int
    public let confidenceAlarmCount: Int
    /// 1-based ordinals of the samples that raised the latest alarms.
    public let lastEntropyAlarmSample: Int?
    public let lastConfidenceAlarmSample: Int?
    /// The larger of Page–Hinkley's two test statistics (compare with its λ).
    public let entropyStatistic: Double
    /// ADWIN's current window length and mean (a long window = a long stable stretch).
    public let confidenceWindowWidth: Int
    public let confidenceWindowMean: Double
    /// Observations refused because a value was NaN or infinite.
    public let skippedNonFinite: Int
}

/// Label-free health of the prediction stream: windowed statistics and two change detectors.
///
/// Why: the daemon cannot see labels, so it watches what it can — how unsure the model is
/// (entropy, confidence), what it predicts (class histogram against a reference), what it sees
/// (embedding shift) and how far adaptation has moved it from the frozen model (disagreement) —
/// and raises alarms an operator, or a preset, can act on (methods.md §7).
///
/// - Window statistics over the last W samples (default 256): mean entropy, mean confidence,
///   disagreement rate with the frozen model.
/// - Reference: the first W samples after creation or `resetReference()`; the class-histogram
///   JS divergence (bits, as in TTADEvaluation) and the L2 distance between the window's and the
///   reference's mean embeddings compare against it.
/// - Page–Hinkley on the entropy (River's defaults, two-sided: a rise means harder data, a fall
///   can mean over-confidence) and ADWIN on the confidence (δ = 0.002).
///
/// `observe` is O(C + D) worst case and allocates nothing; window sums are kept incrementally
/// and recomputed exactly from the ring each time it wraps, so rounding cannot accumulate over
/// months. A checkpoint holds the ring (W × D floats when embeddings are tracked).
public struct DriftMonitor: Codable, Equatable, Sendable {
    public struct Configuration: Codable, Equatable, Sendable {
        public let classCount: Int
        /// W (default 256).
        public let window: Int
        /// D, the embedding length; 0 = embeddings are not tracked.
        public let embeddingDimension: Int
        public let pageHinkley: PageHinkley.Configuration
        public let adwin: ADWIN.Configuration

        public init(classCount: Int, window: Int = 256, embeddingDimension: Int = 0,
                    pageHinkley: PageHinkley.Configuration? = nil,
                    adwin: ADWIN.Configuration? = nil) throws(AdaptationConfigurationError) {
            try Validate.atLeast(classCount, 2, "DriftMonitor.classCount")
            try Validate.atLeast(window, 1, "DriftMonitor.window")
            try Validate.atLeast(embeddingDimension, 0, "DriftMonitor.embeddingDimension")
            self.classCount = classCount
            self.window = window
            self.embeddingDimension = embeddingDimension
            // (`??` would lose the typed error through its rethrowing autoclosure.)
            if let pageHinkley { self.pageHinkley = pageHinkley } else { self.pageHinkley = try PageHinkley.Configuration() }
            if let adwin { self.adwin = adwin } else { self.adwin = try ADWIN.Configuration() }
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let classCount = try c.decode(Int.self, forKey: .classCount)
            let w = try c.decode(Int.self, forKey: .window)
            let d = try c.decode(Int.self, forKey: .embeddingDimension)
            let ph = try c.decode(PageHinkley.Configuration.self, forKey: .pageHinkley)
            let ad = try c.decode(ADWIN.Configuration.self, forKey: .adwin)
            self = try decodingConfiguration(decoder) { () throws(AdaptationConfigurationError) in
                try Configuration(classCount: classCount, window: w, embeddingDimension: d, pageHinkley: ph, adwin: ad)
            }
        }
    }

    public let configuration: Configuration
    public private(set) var sampleCount = 0
    public private(set) var skippedNonFinite = 0
    public private(set) var predictions: PredictionWindow
    public private(set) var pageHinkley: PageHinkley
    public private(set) var adwin: ADWIN
    public private(set) var entropyAlarmCount = 0
    public private(set) var confidenceAlarmCount = 0
    public private(set) var lastEntropyAlarmSample: Int? = nil
    public private(set) var lastConfidenceAlarmSample: Int? = nil
    /// Samples that have entered the reference so far (≤ W).
    public private(set) var referenceCount = 0
    public private(set) var referenceHistogram: [Int]
    // Ring of scalars (and embeddings), slot `next` written next; sums over the ring.
    private var entropies: [Float]
    private var confidences: [Float]
    private var embeddings: [Float]
    private var next = 0
    private var entropySum = 0.0
    private var confidenceSum = 0.0
    private var embeddingSum: [Double]
    private var referenceEmbeddingSum: [Double]

    public init(configuration: Configuration) {
        self.configuration = configuration
        let w = configuration.window, d = configuration.embeddingDimension
        // Cannot fail: the configuration checked window ≥ 1 and classCount ≥ 2.
        predictions = try! PredictionWindow(capacity: w, classCount: configuration.classCount)
        pageHinkley = PageHinkley(configuration: configuration.pageHinkley)
        adwin = ADWIN(configuration: configuration.adwin)
        referenceHistogram = [Int](repeating: 0, count: configuration.classCount)
        entropies = [Float](repeating: 0, count: w)
        confidences = [Float](repeating: 0, count: w)
        embeddings = [Float](repeating: 0, count: w * d)
        embeddingSum = [Double](repeating: 0, count: d)
        referenceEmbeddingSum = [Double](repeating: 0, count: d)
    }

    public var windowCount: Int { predictions.count }
    public var referenceComplete: Bool { referenceCount == configuration.window }

    /// Observes one prediction. `embedding` must be given iff `embeddingDimension > 0`, with
    /// that many floats. An observation with any non-finite entropy, confidence or embedding value
    /// is counted in `skippedNonFinite` and otherwise ignored. Throws, changing nothing, on a class
    /// out of range or a wrong embedding length.
    @discardableResult
    public mutating func observe(entropy: Float, confidence: Float, predictedClass: Int, frozenClass: Int?,
                                 embedding: UnsafeBufferPointer<Float>? = nil) throws(AdaptationInputError) -> DriftAlarms {
        let c = configuration.classCount, d = configuration.embeddingDimension, w = configuration.window
        try Validate.classIndex(predictedClass, c, "DriftMonitor predictedClass")
        if let frozenClass { try Validate.classIndex(frozenClass, c, "DriftMonitor frozenClass") }
        if d > 0 {
            guard let embedding, embedding.count == d else {
                throw AdaptationInputError(argument: "DriftMonitor embedding",
                                           "expected \(d) floats, got \(embedding.map { String($0.count) } ?? "none")")
            }
        } else if embedding != nil {
            throw AdaptationInputError(argument: "DriftMonitor embedding", "given, but embeddingDimension is 0")
        }
        guard entropy.isFinite, confidence.isFinite, embedding.map({ $0.allSatisfy { $0.isFinite } }) ?? true else {
            skippedNonFinite += 1
            return []
        }
        sampleCount += 1

        // Window ring.
        let evicting = predictions.isFull
        if evicting {
            entropySum -= Double(entropies[next])
            confidenceSum -= Double(confidences[next])
        }
        entropies[next] = entropy
        confidences[next] = confidence
        entropySum += Double(entropy)
        confidenceSum += Double(confidence)
        if let embedding {
            let base = next * d
            for j in 0..<d {
                if evicting { embeddingSum[j] -= Double(embeddings[base + j]) }
                embeddings[base + j] = embedding[j]
                embeddingSum[j] += Double(embedding[j])
            }
        }
        try predictions.append(adapted: predictedClass, frozen: frozenClass)
        next += 1
        if next == w {
            next = 0
            recomputeSums()
        }

        // Reference: the first W samples.
        if referenceCount < w {
            referenceHistogram[predictedClass] += 1
            if let embedding { for j in 0..<d { referenceEmbeddingSum[j] += Double(embedding[j]) } }
            referenceCount += 1
        }

        // Detectors.
        var alarms: DriftAlarms = []
        if pageHinkley.update(Double(entropy)) {
            alarms.insert(.entropy)
            entropyAlarmCount += 1
            lastEntropyAlarmSample = sampleCount
        }
        if adwin.update(Double(confidence)) {
            alarms.insert(.confidence)
            confidenceAlarmCount += 1
            lastConfidenceAlarmSample = sampleCount
        }
        return alarms
    }

    /// Array convenience for `observe`.
    @discardableResult
    public mutating func observe(entropy: Float, confidence: Float, predictedClass: Int, frozenClass: Int?,
                                 embedding: [Float]) throws(AdaptationInputError) -> DriftAlarms {
        var result: Result<DriftAlarms, AdaptationInputError> = .success([])
        embedding.withUnsafeBufferPointer { e in
            result = Result { () throws(AdaptationInputError) in
                try observe(entropy: entropy, confidence: confidence, predictedClass: predictedClass,
                            frozenClass: frozenClass, embedding: e)
            }
        }
        return try result.get()
    }

    /// The current statistics. O(C + D); allocates only the snapshot.
    public func snapshot() -> DriftSnapshot {
        let n = predictions.count, w = configuration.window, d = configuration.embeddingDimension
        var shift: Double? = nil
        if d > 0, referenceComplete, n > 0 {
            var s = 0.0
            for j in 0..<d {
                let delta = embeddingSum[j] / Double(n) - referenceEmbeddingSum[j] / Double(w)
                s += delta * delta
            }
            shift = s.squareRoot()
        }
        func recent(_ sample: Int?) -> Bool { sample.map { sampleCount - $0 < w } ?? false }
        return DriftSnapshot(
            sampleCount: sampleCount,
            windowCount: n,
            meanEntropy: n > 0 ? entropySum / Double(n) : nil,
            meanConfidence: n > 0 ? confidenceSum / Double(n) : nil,
            classDivergence: referenceComplete ? PredictionWindow.jensenShannonBits(predictions.adaptedHistogram, referenceHistogram) : nil,
            embeddingShift: shift,
            disagreementRate: predictions.disagreementRate,
            referenceComplete: referenceComplete,
            entropyAlarm: recent(lastEntropyAlarmSample),
            confidenceAlarm: recent(lastConfidenceAlarmSample),
            entropyAlarmCount: entropyAlarmCount,
            confidenceAlarmCount: confidenceAlarmCount,
            lastEntropyAlarmSample: lastEntropyAlarmSample,
            lastConfidenceAlarmSample: lastConfidenceAlarmSample,
            entropyStatistic: Swift.max(pageHinkley.increaseStatistic, pageHinkley.decreaseStatistic),
            confidenceWindowWidth: adwin.width,
            confidenceWindowMean: adwin.mean,
            skippedNonFinite: skippedNonFinite)
    }

    /// Starts a new reference with the next W samples (e.g. after the operator confirms the new
    /// scene is the normal one). The window and the detectors are untouched.
    public mutating func resetReference() {
        referenceCount = 0
        for i in referenceHistogram.indices { referenceHistogram[i] = 0 }
        for j in referenceEmbeddingSum.indices { referenceEmbeddingSum[j] = 0 }
    }

    /// Exact sums over the full ring, in slot order (called when the ring wraps).
    private mutating func recomputeSums() {
        var e = 0.0, c = 0.0
        for i in 0..<configuration.window {
            e += Double(entropies[i])
            c += Double(confidences[i])
        }
        entropySum = e
        confidenceSum = c
        let d = configuration.embeddingDimension
        guard d > 0 else { return }
        for j in 0..<d { embeddingSum[j] = 0 }
        for i in 0..<configuration.window {
            for j in 0..<d { embeddingSum[j] += Double(embeddings[i * d + j]) }
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        configuration = try c.decode(Configuration.self, forKey: .configuration)
        sampleCount = try c.decode(Int.self, forKey: .sampleCount)
        skippedNonFinite = try c.decode(Int.self, forKey: .skippedNonFinite)
        predictions = try c.decode(PredictionWindow.self, forKey: .predictions)
        pageHinkley = try c.decode(PageHinkley.self, forKey: .pageHinkley)
        adwin = try c.decode(ADWIN.self, forKey: .adwin)
        entropyAlarmCount = try c.decode(Int.self, forKey: .entropyAlarmCount)
        confidenceAlarmCount = try c.decode(Int.self, forKey: .confidenceAlarmCount)
        lastEntropyAlarmSample = try c.decodeIfPresent(Int.self, forKey: .lastEntropyAlarmSample)
        lastConfidenceAlarmSample = try c.decodeIfPresent(Int.self, forKey: .lastConfidenceAlarmSample)
        referenceCount = try c.decode(Int.self, forKey: .referenceCount)
        referenceHistogram = try c.decode([Int].self, forKey: .referenceHistogram)
        entropies = try c.decode([Float].self, forKey: .entropies)
        confidences = try c.decode([Float].self, forKey: .confidences)
        embeddings = try c.decode([Float].self, forKey: .embeddings)
        next = try c.decode(Int.self, forKey: .next)
        entropySum = try c.decode(Double.self, forKey: .entropySum)
        confidenceSum = try c.decode(Double.self, forKey: .confidenceSum)
        embeddingSum = try c.decode([Double].self, forKey: .embeddingSum)
        referenceEmbeddingSum = try c.decode([Double].self, forKey: .referenceEmbeddingSum)
        let w = configuration.window, d = configuration.embeddingDimension
        guard predictions.capacity == w, predictions.classCount == configuration.classCount,
              pageHinkley.configuration == configuration.pageHinkley, adwin.configuration == configuration.adwin,
              (0...w).contains(referenceCount), referenceHistogram.count == configuration.classCount,
              referenceHistogram.reduce(0, +) == referenceCount, referenceHistogram.allSatisfy({ $0 >= 0 }),
              entropies.count == w, confidences.count == w, embeddings.count == w * d,
              embeddingSum.count == d, referenceEmbeddingSum.count == d, (0..<w).contains(next),
              predictions.count == w || next == predictions.count,
              sampleCount >= predictions.count, skippedNonFinite >= 0,
              entropySum.isFinite, confidenceSum.isFinite,
              embeddingSum.allSatisfy({ $0.isFinite }), referenceEmbeddingSum.allSatisfy({ $0.isFinite }) else {
            throw corruptState(decoder, "drift monitor state does not match its configuration")
        }
    }
}
