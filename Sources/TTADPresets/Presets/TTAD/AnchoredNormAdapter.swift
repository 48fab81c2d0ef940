import Foundation
import TTADAdaptation
import TTADEngine
import TTADModel
import TTADProtocol

/// The `ttad` preset's learning, wired: after every predicted sample it offers the sample to the bank
/// (STAMP's admission: confident, agreeing with the frozen model, not an outlier; RoTTA's
/// class-balanced replacement), feeds the collapse guard, and every `update_every_samples`
/// samples replays the whole bank through one anchored LayerNorm step. A guard trigger puts
/// the source affines back, empties the bank and starts the cool-down.
///
/// While the frozen predictions come in runs of one class (`LabelCorrelationGate`), nothing is
/// admitted and no step is taken: the affines stay as they are until the stream mixes again.
///
/// The version counts changes of the adapted parameters (steps and resets); every prediction
/// carries the version it was made with. Owned by one thread: the processing thread in
/// deterministic mode, `TTADLearning` on a `LearningWorker` in live mode.
public final class AnchoredNormAdapter {
    let settings: AdaptationSection
    let learner: VisionNormLearner
    private(set) var bank: MemoryBank<BankSample>
    private(set) var admission: BankAdmission
    private(set) var guardian: CollapseGuard
    private(set) var labelGate: LabelCorrelationGate
    /// The published temperature (calibration; never touches learning).
    private(set) var confidence: ConfidenceAnchor
    private(set) var version = 0
    private(set) var counters = AdaptationCounters()
    private var samplesSinceStep = 0
    private var pendingLoss: Float?
    private var pendingNonFinite = false
    /// Replay's input: one decoded image, and the bank's patch embeddings in bank order.
    private let replayPixels: FloatBuffer
    private let replayEmbeddings: FloatBuffer
    /// Patch embeddings of the bank's items by `insertedAt` (with the payload they were made
    /// of, as a check). Not checkpointed: after a restart each is made again on first replay.
    private var embeddingCache: [Int: (payload: BankSample, embeddings: [Float])] = [:]
    /// What happened since `takeReport` was last called.
    private var report = AdaptationReport()
    private var parametersChanged = false

    /// Identifies settings whose state can be continued across a restart.
    let stateKey: String

    init(settings: AdaptationSection, model: CLIPModel, classes: ClassEmbeddings, logitScale: Float) throws {
        self.settings = settings
        let c = classes.count
        learner = VisionNormLearner(model: model, classEmbeddings: classes, logitScale: logitScale,
                                    learningRate: settings.learningRate, anchorWeight: Float(settings.anchorWeight),
                                    weightTotal: Float(settings.bank.capacity))
        bank = MemoryBank(configuration: try MemoryBankConfiguration(classCount: c, capacity: settings.bank.capacity,
                                                                    maxBytes: settings.bank.maxBytes))
        admission = BankAdmission(configuration: try BankAdmission.Configuration(
            classCount: c, entropyFraction: settings.bank.entropyFraction, requireAgreement: settings.bank.requireFrozenAgreement))
        let g = settings.guardSettings
        guardian = CollapseGuard(configuration: try CollapseGuard.Configuration(
            classCount: c, entropyFloor: g.entropyFloor, window: g.window, collapsedClassCount: g.collapsedClassCount,
            topShareMargin: g.topShareMargin, disagreementBound: g.disagreementBound, cooldown: g.cooldownSamples,
            periodicInterval: g.periodicResetSamples))
        labelGate = LabelCorrelationGate(configuration: try LabelCorrelationGate.Configuration(
            classCount: c, window: settings.labelGate.window, threshold: settings.labelGate.threshold,
            reopenThreshold: settings.labelGate.reopenBelow, warmupSamples: settings.labelGate.warmupSamples,
            mixedBelow: settings.labelGate.mixedBelow,
            mixedClasses: settings.labelGate.mixedClasses))
        confidence = ConfidenceAnchor(configuration: try ConfidenceAnchor.Configuration(rate: settings.calibrationRate))
        replayPixels = FloatBuffer(count: learner.imageFloatCount)
        replayEmbeddings = FloatBuffer(count: settings.bank.capacity * learner.trainer.patchEmbeddingFloatCount)
        stateKey = "\(settings) model=\(model.folder) classes=\(classes.names)"
    }

    /// Observes one predicted sample (`sample` builds its bank copy, called only on admission);
    /// returns a reset when the guard fired.
    func observe(sample: () -> BankSample, result r: ClassificationResult, frozenClass: Int, isOutlier: Bool) -> AdaptationReset? {
        // The frozen class, not the adapted one: adaptation must not be able to bend its own gate.
        let closures = labelGate.closures, warmup = labelGate.warmupClosedSamples
        try? labelGate.observe(frozenClass)
        report.observedSamples += 1
        if labelGate.isCorrelated { report.pausedSamples += 1 }
        report.warmupSamples += labelGate.warmupClosedSamples - warmup
        report.gateClosures += labelGate.closures - closures
        let decision = admission.evaluate(entropy: r.entropy, adaptedClass: r.predicted, frozenClass: frozenClass, isOutlier: isOutlier)
        if decision.isAdmitted, guardian.shouldAdapt, !labelGate.isCorrelated {
            // Entropy is the item's uncertainty in RoTTA's score; the payload size its cost.
            let item = sample()
            if let outcome = try? bank.insert(item, classIndex: r.predicted, uncertainty: r.entropy,
                                              byteSize: item.bytes.count + 64), outcome.isAdded {
                counters.bankInsertions += 1
            }
        }
        samplesSinceStep += 1
        let loss = pendingLoss, nonFinite = pendingNonFinite
        pendingLoss = nil
        pendingNonFinite = false
        guard let reset = try? guardian.observe(predictedClass: r.predicted, frozenClass: frozenClass,
                                                adaptationLoss: loss, nonFinite: nonFinite) else { return nil }
        learner.resetToSource()
        bank.removeAll()
        confidence.reset()
        samplesSinceStep = 0
        version += 1
        parametersChanged = true
        let r = AdaptationReset(decision: reset, version: version)
        report.resets.append(r)
        return r
    }

    /// One published sample's top-1 probability at the current temperature, against the source
    /// model's on the same sample: moves the temperature (`ConfidenceAnchor`).
    func calibrate(adaptedConfidence: Double, sourceConfidence: Double) {
        // While the adapted model is the source, T is 1 and the anchor waits to start afresh.
        guard learner.stepsSinceReset > 0 else { return confidence.reset() }
        confidence.observe(adaptedConfidence: adaptedConfidence, sourceConfidence: sourceConfidence)
    }

    /// Whether a step is due now. Paused (the affines kept as they are) while the stream is
    /// label-correlated: a bank filled from one class's run teaches its confusions.
    var stepDue: Bool {
        samplesSinceStep >= settings.updateEverySamples && guardian.shouldAdapt && !labelGate.isCorrelated
            && bank.count >= settings.minBankItems
    }

    /// Replays the bank: `preprocess` writes an item's pixels into the buffer it is given and
    /// returns false if the item no longer decodes (it is skipped). Returns the step's outcome.
    ///
    /// An item is decoded and embedded once, the first time it is replayed; later steps reuse its
    /// patch embeddings (`embeddingCache`), so a step costs the tower's forward and backward, not
    /// 64 decodes and resizes. The step sees exactly the inputs it would from the pixels.
    func step(preprocess: (BankSample, UnsafeMutableBufferPointer<Float>) -> Bool) -> VisionNormLearner.StepResult? {
        samplesSinceStep = 0
        let m = learner.trainer.patchEmbeddingFloatCount
        var rows = 0
        var kept: Set<Int> = []
        for item in bank.items where rows < settings.bank.capacity {
            let slot = replayEmbeddings.pointer + rows * m
            if let hit = embeddingCache[item.insertedAt], hit.payload == item.payload {
                hit.embeddings.withUnsafeBufferPointer { slot.update(from: $0.baseAddress!, count: m) }
            } else {
                guard preprocess(item.payload, UnsafeMutableBufferPointer(start: replayPixels.pointer, count: learner.imageFloatCount))
                else { continue }
                learner.trainer.embedPatches(images: replayPixels.pointer, batch: 1, into: slot)
                embeddingCache[item.insertedAt] = (item.payload, Array(UnsafeBufferPointer(start: slot, count: m)))
            }
            kept.insert(item.insertedAt)
            rows += 1
        }
        // Items that left the bank leave the cache with it.
        if embeddingCache.count > kept.count { embeddingCache = embeddingCache.filter { kept.contains($0.key) } }
        guard rows > 0 else { return nil }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let result = learner.step(.patchEmbeddings(replayEmbeddings.pointer), batch: rows)
        if result.applied {
            version += 1
            counters.steps += 1
            pendingLoss = result.loss
            parametersChanged = true
            report.stepSeconds.append(Double(DispatchTime.now().uptimeNanoseconds &- t0) / 1e9)
            report.lastLoss = result.loss
        } else {
            counters.stepsUndone += 1
            pendingNonFinite = true
        }
        counters.lastLoss = result.loss
        return result
    }

    /// What adaptation did since the last call, with the current levels.
    func takeReport() -> AdaptationReport {
        var r = report
        report = AdaptationReport()
        r.bankItems = bank.count
        r.labelCorrelation = labelGate.excess ?? .nan
        r.version = version
        if parametersChanged {
            // A pass over all affines: only when a step or reset changed them.
            r.distanceFromSource = learner.distanceFromSource()
            parametersChanged = false
        }
        return r
    }

    // MARK: - Checkpoint

    public struct State: Codable, Sendable {
        public var key: String
        public var learner: VisionNormLearner.State
        public var bank: MemoryBank<BankSample>
        public var admission: BankAdmission
        public var guardian: CollapseGuard
        public var labelGate: LabelCorrelationGate
        /// Nil in checkpoints written before calibration existed (T starts at 1).
        public var confidence: ConfidenceAnchor?
        public var version: Int
        public var counters: AdaptationCounters
        public var samplesSinceStep: Int
    }

    func state() -> State {
        State(key: stateKey, learner: learner.state(), bank: bank, admission: admission, guardian: guardian,
              labelGate: labelGate, confidence: confidence, version: version, counters: counters, samplesSinceStep: samplesSinceStep)
    }

    /// A gate written before the warm-up existed (warm-up 0, open since its start) continues
    /// under a configuration that differs only by the warm-up: the warm-up is over for it.
    static func gateContinues(_ stored: LabelCorrelationGate.Configuration, _ current: LabelCorrelationGate.Configuration) -> Bool {
        stored == current || (stored.warmupSamples == 0 && stored.classCount == current.classCount && stored.window == current.window
                              && stored.threshold == current.threshold && stored.reopenThreshold == current.reopenThreshold)
    }

    /// Continues from `s` when it was written with the same settings, model and classes;
    /// returns why not otherwise (and changes nothing).
    func restore(_ s: State) -> String? {
        guard StateKey.matches(s.key, stateKey) else { return "adaptation settings, model or classes changed since the checkpoint" }
        guard s.bank.configuration == bank.configuration, s.admission.configuration == admission.configuration,
              s.guardian.configuration == guardian.configuration, Self.gateContinues(s.labelGate.configuration, labelGate.configuration)
        else { return "bank, guard or label-gate settings changed" }
        do { try learner.restore(s.learner) } catch { return "\(error)" }
        bank = s.bank
        admission = s.admission
        guardian = s.guardian
        labelGate = s.labelGate
        if let c = s.confidence, c.configuration == confidence.configuration { confidence = c }
        version = s.version
        counters = s.counters
        samplesSinceStep = s.samplesSinceStep
        parametersChanged = true
        return nil
    }
}

