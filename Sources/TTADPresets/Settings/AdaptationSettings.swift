/// What adapts online and how (`[adaptation]` and its sub-tables; docs/adaptation.md). Each
/// preset reads its own part; the daemon maps the TOML onto these and hands them to the preset.
public struct AdaptationSection: Sendable, Equatable {
    public var preset: PresetName = .frozen
    /// AdamW learning rate of the LayerNorm affines.
    public var learningRate: Double = 1e-2
    /// λ of the pull-back term (λ/2)·‖θ − θ₀‖² toward the source affines.
    public var anchorWeight: Double = 0.3
    /// One adaptation step (replaying the whole bank) after this many samples.
    public var updateEverySamples: Int = 16
    /// No step until the bank holds this many samples.
    public var minBankItems: Int = 16
    /// Rate of the published temperature that keeps the adapted confidence at the source
    /// model's (`ConfidenceAnchor`); 0 = off (the adapted softmax is published as it is).
    public var calibrationRate: Double = 0.02
    /// Live mode: share of one core the adaptation worker may keep busy (it sleeps to stay under).
    public var workerCPUBudget: Double = 0.5
    public var bank = AdaptationBankSection()
    public var guardSettings = AdaptationGuardSection()
    public var labelGate = AdaptationLabelGateSection()
    /// The other presets' settings: each is read only by its preset.
    public var promptTuning = PromptTuningSection()
    public var rotta = RottaSection()
    public var stamp = StampSection()
    /// Seed of every random choice adaptation makes (views, augmentations, memory eviction).
    public var seed: UInt64 = 0
    public init() {}
}

/// `[adaptation.tpt]`: the `tpt` and `dynaprompt` presets (TPT's and DynaPrompt's defaults).
public struct PromptTuningSection: Sendable, Equatable {
    /// Views per sample: the original plus random resized crops with flips.
    public var views: Int = 64
    /// Share of the views kept by confidence (lowest entropy) for the loss.
    public var keepFraction: Double = 0.1
    /// AdamW learning rate of the context (weight decay 0.01, fresh moments every sample).
    public var learningRate: Double = 5e-3
    /// DynaPrompt's buffer size M.
    public var slots: Int = 10
    public init() {}
}

/// `[adaptation.rotta]`: RoTTA's published defaults.
public struct RottaSection: Sendable, Equatable {
    /// Adam learning rate of the student's affines.
    public var learningRate: Double = 1e-3
    /// Teacher EMA rate ν.
    public var teacherRate: Double = 1e-3
    /// One update after this many samples.
    public var updateEverySamples: Int = 64
    /// Bank capacity N (CSTU).
    public var capacity: Int = 64
    /// λ_t and λ_u of the CSTU score.
    public var timelinessWeight: Double = 1
    public var uncertaintyWeight: Double = 1
    public init() {}
}

/// `[adaptation.stamp]`: STAMP's defaults for the CIFAR-10-C 8/2 split, this model's setting.
public struct StampSection: Sendable, Equatable {
    /// SGD learning rate (cosine-annealed over `cosine_period` updates, periodic like PyTorch's).
    public var learningRate: Double = 0.1
    /// Admission margin α: entropy of the averaged views below α·ln C.
    public var alpha: Double = 0.25
    /// SAM's radius ρ.
    public var rho: Double = 0.05
    /// Views averaged per prediction: the original and views − 1 augmentations.
    public var views: Int = 16
    /// One update (on the whole memory) after this many samples: STAMP's batch size.
    public var updateEverySamples: Int = 64
    public var capacity: Int = 64
    /// T_max of the cosine schedule, in updates.
    public var cosinePeriod: Int = 150
    public init() {}
}

public struct AdaptationBankSection: Sendable, Equatable {
    /// Samples the bank holds (RoTTA's and STAMP's 64); also STAMP's weight total T.
    public var capacity: Int = 64
    /// Bound on the stored encoded images, in bytes.
    public var maxBytes: Int = 16 << 20
    /// Admission: entropy below this fraction of ln C.
    public var entropyFraction: Double = 0.4
    /// Admission: the frozen model must predict the same class.
    public var requireFrozenAgreement: Bool = true
    public init() {}
}

/// Pauses adaptation while the frozen predictions come in runs (label-correlated stream).
public struct AdaptationLabelGateSection: Sendable, Equatable {
    /// Samples of frozen predictions the test looks at; must exceed the runs (0 = off).
    public var window: Int = 2048
    /// Excess of equal neighbours over Σ p̂² above which adaptation pauses.
    public var threshold: Double = 0.15
    /// Excess below which a paused adaptation resumes (≤ threshold).
    public var reopenBelow: Double = 0.10
    /// Warm-up: adaptation waits from the first sample until at least this many frozen
    /// predictions show the stream mixed (0 = no warm-up: open until a full window says otherwise).
    public var warmupSamples: Int = 128
    /// Warm-up: excess over the samples so far at or below which they count as mixed (≤ threshold).
    public var mixedBelow: Double = 0.05
    /// Warm-up: effective number of classes (1 / Σ p̂²) the samples so far must spread over.
    public var mixedClasses: Double = 3
    public init() {}
}

public struct AdaptationGuardSection: Sendable, Equatable {
    /// e₀ of SAR's entropy-EMA test in nats; nil = 0.2·ln C / ln 1000.
    public var entropyFloor: Double? = nil
    public var window: Int = 256
    public var collapsedClassCount: Int = 2
    public var topShareMargin: Double = 0.1
    public var disagreementBound: Double = 0.5
    public var cooldownSamples: Int = 500
    /// RDumb-style reset every N samples since the last reset (0 = off).
    public var periodicResetSamples: Int = 0
    public init() {}
}
