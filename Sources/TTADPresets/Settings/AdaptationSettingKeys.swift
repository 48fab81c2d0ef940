/// The keys of `[adaptation]` and its sub-tables that fill `AdaptationSection`, declared once
/// (see `SettingKey`). The daemon lifts them onto its configuration; the checks between keys
/// (a label-gate value that must stay under another) stay in the daemon's loader.
extension AdaptationSection {
    public static var settingKeys: [SettingKey<AdaptationSection>] {
        typealias K = SettingKey<AdaptationSection>
        let a = "adaptation", bank = "adaptation.bank", gd = "adaptation.guard", gate = "adaptation.label_gate"
        let tpt = "adaptation.tpt", rotta = "adaptation.rotta", stamp = "adaptation.stamp"
        return [
            K(a, "preset", .string, doc: "What adapts: one of the registered presets.",
              typeOverride: SettingValue.choices(PresetRegistry.builtIn.map(\.name.rawValue)),
              check: { v in
                  guard case .string(let s) = v, PresetRegistry.descriptor(PresetName(rawValue: s)) == nil else { return nil }
                  return ("", "must be one of \(PresetRegistry.names.map { "\"\($0)\"" }.joined(separator: ", ")), got \"\(s)\"")
              },
              get: { .string($0.preset.rawValue) }, set: { if case .string(let s) = $1 { $0.preset = PresetName(rawValue: s) } }),
            .double(a, "learning_rate", \.learningRate, min: 0, max: 1, openMin: true, "AdamW learning rate of the LayerNorm affines."),
            .double(a, "anchor_weight", \.anchorWeight, min: 0, max: 1e6, "λ of the pull-back term toward the source affines."),
            .double(a, "calibration_rate", \.calibrationRate, min: 0, max: 1, "Rate of the temperature matching the source's confidence; 0 = off."),
            .int(a, "update_every_samples", \.updateEverySamples, min: 1, max: 1 << 24, "One adaptation step after this many samples."),
            .int(a, "min_bank_items", \.minBankItems, min: 1, max: 4096, typeOverride: "integer 1 to 4096, ≤ `bank.capacity`",
                 "No step until the bank holds this many samples."),
            .double(a, "worker_cpu_budget", \.workerCPUBudget, min: 0, max: 1, openMin: true, "Live mode: share of one core the adaptation worker may use."),
            K(a, "seed", .int(min: 0, max: 1 << 62), doc: "Seed of adaptation's random choices.",
              get: { .int(Int(clamping: $0.seed)) }, set: { if case .int(let i) = $1 { $0.seed = UInt64(i) } }),

            .int(bank, "capacity", \.bank.capacity, min: 1, max: 4096, "Samples the bank keeps, class-balanced."),
            .int(bank, "max_bytes", \.bank.maxBytes, min: 1024, max: 1 << 34, "Bound on the stored encoded samples, in bytes."),
            .double(bank, "entropy_fraction", \.bank.entropyFraction, min: 0, max: 1, openMin: true, "Admission: entropy below this fraction of ln C."),
            .bool(bank, "require_frozen_agreement", \.bank.requireFrozenAgreement, "Admission: the source model must predict the same class."),

            .double(gd, "entropy_floor", \.guardSettings.entropyFloor, min: 0, max: 100, defaultDoc: "0.2·ln C / ln 1000",
                    "SAR's e₀: reset when the loss's moving average falls below it."),
            .int(gd, "window", \.guardSettings.window, min: 8, max: 1 << 20, "Samples the collapse and disagreement tests look at."),
            .int(gd, "collapsed_class_count", \.guardSettings.collapsedClassCount, min: 0, max: 1 << 20, "Reset when at most this many classes remain predicted."),
            .double(gd, "top_share_margin", \.guardSettings.topShareMargin, min: 0, max: 1, "Reset when the top class's share exceeds the source's by this."),
            .double(gd, "disagreement_bound", \.guardSettings.disagreementBound, min: 0, max: 1, "Reset when this share of the window disagrees with the source."),
            .int(gd, "cooldown_samples", \.guardSettings.cooldownSamples, min: 0, max: 1 << 30, "Samples without adaptation after a reset."),
            .int(gd, "periodic_reset_samples", \.guardSettings.periodicResetSamples, min: 0, max: 1 << 40, "Reset every this many samples; 0 = off."),

            .int(gate, "window", \.labelGate.window, min: 0, max: 1 << 20, typeOverride: "integer, 0 or 16 to 1048576",
                 check: { v in
                     guard case .int(let i) = v, i != 0, i < 16 else { return nil }
                     return ("", "must be 0 (off) or ≥ 16, got \(i)")
                 }, "Source-model predictions the test looks at; 0 = off."),
            .double(gate, "threshold", \.labelGate.threshold, min: 0, max: 1, openMin: true, openMax: true, "Pause when the excess rises above this."),
            .double(gate, "reopen_below", \.labelGate.reopenBelow, min: -1, max: 1, typeOverride: "number in [-1, 1], ≤ `threshold`",
                    "Resume once the excess falls below this."),
            .int(gate, "warmup_samples", \.labelGate.warmupSamples, min: 0, max: 1 << 20, typeOverride: "integer, 0 or 2 to 1048576, ≤ `window`",
                 check: { v in
                     guard case .int(let i) = v, i == 1 else { return nil }
                     return ("", "must be 0 (off) or ≥ 2, got \(i)")
                 }, "Warm-up: predictions that must show a mixed stream first; 0 = off."),
            .double(gate, "mixed_below", \.labelGate.mixedBelow, min: -1, max: 1, typeOverride: "number in [-1, 1], ≤ `threshold`",
                    "Warm-up: the excess so far must be at most this."),
            .double(gate, "mixed_classes", \.labelGate.mixedClasses, min: 1, max: 1e6, "Warm-up: effective classes the predictions must spread over."),

            .int(tpt, "views", \.promptTuning.views, min: 1, max: 256, "Views per sample."),
            .double(tpt, "keep_fraction", \.promptTuning.keepFraction, min: 0, max: 1, openMin: true, "Share of the views the loss is taken on."),
            .double(tpt, "learning_rate", \.promptTuning.learningRate, min: 0, max: 1, openMin: true, "AdamW learning rate of the context."),
            .int(tpt, "slots", \.promptTuning.slots, min: 1, max: 64, "DynaPrompt: prompts in the buffer."),

            .double(rotta, "learning_rate", \.rotta.learningRate, min: 0, max: 1, openMin: true, "Adam learning rate of the student's affines."),
            .double(rotta, "teacher_rate", \.rotta.teacherRate, min: 0, max: 1, "Teacher EMA rate ν."),
            .int(rotta, "update_every_samples", \.rotta.updateEverySamples, min: 1, max: 1 << 24, "One update after this many samples."),
            .int(rotta, "capacity", \.rotta.capacity, min: 1, max: 4096, "Bank size N."),
            .double(rotta, "timeliness_weight", \.rotta.timelinessWeight, min: 0, max: 1e6, "λ_t of the CSTU score."),
            .double(rotta, "uncertainty_weight", \.rotta.uncertaintyWeight, min: 0, max: 1e6, "λ_u of the CSTU score."),

            .double(stamp, "learning_rate", \.stamp.learningRate, min: 0, max: 10, openMin: true, "SGD learning rate, cosine-annealed."),
            .double(stamp, "alpha", \.stamp.alpha, min: 0, max: 1, openMin: true, "Admission: view-averaged entropy below α·ln C."),
            .double(stamp, "rho", \.stamp.rho, min: 0, max: 10, openMin: true, "SAM's radius ρ."),
            .int(stamp, "views", \.stamp.views, min: 1, max: 256, "Views averaged per prediction."),
            .int(stamp, "update_every_samples", \.stamp.updateEverySamples, min: 1, max: 1 << 24, "One update on the whole memory after this many samples."),
            .int(stamp, "capacity", \.stamp.capacity, min: 1, max: 4096, "Memory size."),
            .int(stamp, "cosine_period", \.stamp.cosinePeriod, min: 1, max: 1 << 30, "T_max of the cosine schedule, in updates."),
        ]
    }
}
