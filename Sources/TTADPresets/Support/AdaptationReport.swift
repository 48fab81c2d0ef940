import TTADAdaptation

/// What gradient adaptation did since the last report: the processing loop turns it into
/// metrics and `reset` events. Filled by the preset on whichever thread runs it (the
/// processing thread in deterministic mode, the adaptation worker in live mode), so the loop
/// never reads the adapter's state across threads.
public struct AdaptationReport: Sendable {
    /// Steps applied, with the time each took.
    public var stepSeconds: [Double] = []
    /// Loss of the last applied step.
    public var lastLoss: Float?
    public var resets: [AdaptationReset] = []
    /// Samples observed while the label gate held adaptation.
    public var pausedSamples = 0
    /// Of those, samples of the gate's warm-up (before the stream first showed itself mixed).
    public var warmupSamples = 0
    /// Times the label gate closed after having been open.
    public var gateClosures = 0
    /// Samples the preset learned from (offered to its bank, cache or step).
    public var observedSamples = 0
    /// Samples the live worker never saw because it was behind (its queue was full).
    public var droppedSamples = 0
    // Levels at the time of the report (nil: nothing observed since the last one).
    public var bankItems: Int?
    public var labelCorrelation: Double?
    /// ‖θ − θ₀‖ after the last step or reset, when there was one.
    public var distanceFromSource: Float?
    public var version: Int?
    /// A worker's backlog: samples handed over and not yet observed, and how long the oldest of
    /// them has waited (0 when none waits). Nil when learning runs inline.
    public var queuedSamples: Int?
    public var lagSeconds: Double?

    public init() {}

    public var isEmpty: Bool {
        stepSeconds.isEmpty && resets.isEmpty && pausedSamples == 0 && droppedSamples == 0 && observedSamples == 0 && bankItems == nil
    }

    /// Adds a later report to this one (counts add up, levels take the later value).
    public mutating func merge(_ later: AdaptationReport) {
        stepSeconds += later.stepSeconds
        lastLoss = later.lastLoss ?? lastLoss
        resets += later.resets
        pausedSamples += later.pausedSamples
        warmupSamples += later.warmupSamples
        gateClosures += later.gateClosures
        observedSamples += later.observedSamples
        droppedSamples += later.droppedSamples
        bankItems = later.bankItems ?? bankItems
        labelCorrelation = later.labelCorrelation ?? labelCorrelation
        distanceFromSource = later.distanceFromSource ?? distanceFromSource
        version = later.version ?? version
        queuedSamples = later.queuedSamples ?? queuedSamples
        lagSeconds = later.lagSeconds ?? lagSeconds
    }
}
