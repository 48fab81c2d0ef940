import TTADAdaptation

/// What gradient adaptation did since the last report: the processing loop turns it into
/// metrics and `reset` events. Filled by `ImageAdapter` on whichever thread runs it (the
/// processing thread in deterministic mode, the adaptation worker in live mode), so the loop
/// never reads the adapter's state across threads.
struct AdaptationReport {
    /// Steps applied, with the time each took.
    var stepSeconds: [Double] = []
    /// Loss of the last applied step.
    var lastLoss: Float?
    var resets: [AdaptationReset] = []
    /// Samples observed while the label gate held adaptation.
    var pausedSamples = 0
    /// Samples the live worker never saw because it was behind (its queue was full).
    var droppedSamples = 0
    // Levels at the time of the report (nil: nothing observed since the last one).
    var bankItems: Int?
    var labelCorrelation: Double?
    /// ‖θ − θ₀‖ after the last step or reset, when there was one.
    var distanceFromSource: Float?
    var version: Int?

    var isEmpty: Bool {
        stepSeconds.isEmpty && resets.isEmpty && pausedSamples == 0 && droppedSamples == 0 && bankItems == nil
    }

    /// Adds a later report to this one (counts add up, levels take the later value).
    mutating func merge(_ later: AdaptationReport) {
        stepSeconds += later.stepSeconds
        lastLoss = later.lastLoss ?? lastLoss
        resets += later.resets
        pausedSamples += later.pausedSamples
        droppedSamples += later.droppedSamples
        bankItems = later.bankItems ?? bankItems
        labelCorrelation = later.labelCorrelation ?? labelCorrelation
        distanceFromSource = later.distanceFromSource ?? distanceFromSource
        version = later.version ?? version
    }
}
