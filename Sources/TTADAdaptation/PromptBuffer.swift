/// A set of prompt-slot indices (0..<64) as a bit mask: a selection is made per sample and must
/// not allocate.
public struct SlotSet: Equatable, Hashable, Sendable, Sequence {
    public private(set) var bits: UInt64

    public init() { bits = 0 }
    public init(bits: UInt64) { self.bits = bits }
    public init(_ slots: some Sequence<Int>) {
        bits = 0
        for s in slots { insert(s) }
    }

    public static let maximumSlots = 64

    public mutating func insert(_ slot: Int) {
        precondition(slot >= 0 && slot < Self.maximumSlots, "SlotSet: slot \(slot) out of range")
        bits |= 1 << UInt64(slot)
    }

    public func contains(_ slot: Int) -> Bool {
        slot >= 0 && slot < Self.maximumSlots && bits & (1 << UInt64(slot)) != 0
    }

    public var count: Int { bits.nonzeroBitCount }
    public var isEmpty: Bool { bits == 0 }

    /// Ascending slot indices.
    public func makeIterator() -> Iterator { Iterator(remaining: bits) }

    public struct Iterator: IteratorProtocol {
        var remaining: UInt64
        public mutating func next() -> Int? {
            guard remaining != 0 else { return nil }
            let i = remaining.trailingZeroBitCount
            remaining &= remaining - 1
            return i
        }
    }
}

/// What `PromptBuffer.select` decided for one sample.
public struct PromptSelection: Equatable, Sendable {
    /// The slots to predict with and to adapt (never empty).
    public let slots: SlotSet
    /// The slot that was appended (or recycled) as a fresh prompt because no slot was relevant;
    /// nil when relevant slots were found. The fresh slot's residual is zero, so the caller's
    /// outputs for the fresh (initial) prompt are exactly that slot's outputs.
    public let appendedSlot: Int?
    /// True when `appendedSlot` reused the least recently used slot of a full buffer (its
    /// previous residual was discarded).
    public let recycled: Bool
}

/// DynaPrompt's online prompt buffer: up to M prompts, each a residual on the initial prompt,
/// selected per sample by how they do on that sample compared with the initial prompt.
///
/// Why: a single online prompt drifts and collapses (calibration.md: TPT never reset loses 11
/// points), while a prompt reset per sample forgets everything. A buffer keeps several
/// specialised prompts, uses only those that help on the current sample and retires the ones
/// nobody has used for longest.
///
/// Per sample (DynaPrompt, ICLR 2025, §2.3 of methods.md), the caller evaluates every slot and the
/// fresh prompt (residual zero = the initial prompt) on the sample's views and passes, per slot:
/// E_i, the mean prediction entropy, and D_i, the probability difference (original view versus
/// augmented views; DynaPrompt's code uses max logits). Then, as the paper describes it:
/// - slot i is relevant iff `E_i < E_fresh` **and** `D_i > D_fresh` (both strict; a NaN compares
///   false, so a slot with a non-finite metric is never relevant);
/// - the selection is the relevant slots; if there are none, a fresh slot (zero residual) is
///   appended and selected alone; when all M slots exist, the least recently used one (smallest
///   last-used step, then lowest index) is reset to zero and reused instead;
/// - every selected slot gets the current step as its last-used step; the step then advances.
///
/// Differences from the official code (zzzx1224/DynaPrompt), where this follows the paper:
/// - the code always co-selects the fresh prompt and so "appends" one prompt on every sample;
///   here a fresh slot is appended only when nothing is relevant;
/// - the code's second set is "the top-e slots by D" (e = how many slots have higher entropy
///   than the fresh one), not "D above the fresh prompt's", and it indexes the entropy ranking
///   with slot ids (a permutation quirk); here both tests compare against the fresh prompt;
/// - the code re-initialises the LRU slot pre-emptively once every slot has been used; here the
///   LRU slot is recycled only when a fresh slot is actually needed.
///
/// Residuals are stored flat (M × L floats, zero-filled at init) so reading or updating a slot
/// never allocates. Defaults: M = 10 (the paper; the script uses 12). M may be at most 64.
public struct PromptBuffer: Codable, Equatable, Sendable {
    public struct Configuration: Codable, Equatable, Sendable {
        /// M, the number of slots (1...64, default 10).
        public let slotCapacity: Int
        /// L, floats per residual (e.g. n_ctx × width = 4 × 512).
        public let residualLength: Int

        public static let defaultSlotCapacity = 10

        public init(residualLength: Int, slotCapacity: Int = Configuration.defaultSlotCapacity) throws(AdaptationConfigurationError) {
            try Validate.inRange(slotCapacity, 1...SlotSet.maximumSlots, "PromptBuffer.slotCapacity")
            try Validate.atLeast(residualLength, 1, "PromptBuffer.residualLength")
            self.slotCapacity = slotCapacity
            self.residualLength = residualLength
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let m = try c.decode(Int.self, forKey: .slotCapacity)
            let l = try c.decode(Int.self, forKey: .residualLength)
            self = try decodingConfiguration(decoder) { () throws(AdaptationConfigurationError) in
                try Configuration(residualLength: l, slotCapacity: m)
            }
        }
    }

    /// Last-used step of a slot that was reset and not used since: recycled first.
    public static let neverUsed = -1

    public let configuration: Configuration
    /// Slots in use (0...M); slots are appended in index order and never removed, except by
    /// `resetAll`.
    public private(set) var slotCount: Int
    /// Samples selected so far; the step the next selection will record.
    public private(set) var step: Int
    private var residuals: [Float]
    private var lastUsed: [Int]
    private var useCounts: [Int]

    public init(configuration: Configuration) {
        self.configuration = configuration
        slotCount = 0
        step = 0
        residuals = [Float](repeating: 0, count: configuration.slotCapacity * configuration.residualLength)
        lastUsed = [Int](repeating: Self.neverUsed, count: configuration.slotCapacity)
        useCounts = [Int](repeating: 0, count: configuration.slotCapacity)
    }

    public var isFull: Bool { slotCount == configuration.slotCapacity }

    /// The step at which a slot was last selected, or `neverUsed` after a reset.
    public func lastUsedStep(ofSlot slot: Int) throws(AdaptationInputError) -> Int {
        try checkSlot(slot)
        return lastUsed[slot]
    }

    /// How many samples selected the slot since it was (re)initialised.
    public func useCount(ofSlot slot: Int) throws(AdaptationInputError) -> Int {
        try checkSlot(slot)
        return useCounts[slot]
    }

    /// A copy of a slot's residual (checkpoints, tests; use `withResidual` in hot paths).
    public func residual(ofSlot slot: Int) throws(AdaptationInputError) -> [Float] {
        try checkSlot(slot)
        let l = configuration.residualLength
        return Array(residuals[slot * l ..< (slot + 1) * l])
    }

    /// Read access to a slot's residual without copying.
    public func withResidual<R>(ofSlot slot: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        try checkSlot(slot)
        let l = configuration.residualLength
        return try residuals.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[slot * l ..< (slot + 1) * l])) }
    }

    /// Write access to a slot's residual (the optimizer updates it in place).
    public mutating func withMutableResidual<R>(ofSlot slot: Int, _ body: (UnsafeMutableBufferPointer<Float>) throws -> R) throws -> R {
        try checkSlot(slot)
        let l = configuration.residualLength
        return try residuals.withUnsafeMutableBufferPointer {
            try body(UnsafeMutableBufferPointer(rebasing: $0[slot * l ..< (slot + 1) * l]))
        }
    }

    /// Read access to the residuals of every slot in use, `slotCount × L` floats, slot by slot.
    public func withResiduals<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        let l = configuration.residualLength
        return try residuals.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0 ..< slotCount * l])) }
    }

    /// Write access to the residuals of every slot in use (one optimizer step over all of them).
    public mutating func withMutableResiduals<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        let l = configuration.residualLength, n = slotCount * l
        return try residuals.withUnsafeMutableBufferPointer { try body(UnsafeMutableBufferPointer(rebasing: $0[0 ..< n])) }
    }

    public mutating func setResidual(ofSlot slot: Int, to values: [Float]) throws(AdaptationInputError) {
        try checkSlot(slot)
        guard values.count == configuration.residualLength else {
            throw AdaptationInputError(argument: "PromptBuffer.setResidual values",
                                       "has \(values.count) floats, expected \(configuration.residualLength)")
        }
        let l = configuration.residualLength
        residuals.replaceSubrange(slot * l ..< (slot + 1) * l, with: values)
    }

    /// The per-sample rule (see the type's comment). `entropies` and `probabilityDifferences`
    /// hold one value per slot in use (`slotCount`, possibly 0). Throws only on a length
    /// mismatch, leaving the buffer unchanged.
    public mutating func select(entropies: UnsafeBufferPointer<Float>, probabilityDifferences: UnsafeBufferPointer<Float>,
                                freshEntropy: Float, freshProbabilityDifference: Float) throws(AdaptationInputError) -> PromptSelection {
        guard entropies.count == slotCount, probabilityDifferences.count == slotCount else {
            throw AdaptationInputError(argument: "PromptBuffer.select",
                                       "got \(entropies.count) entropies and \(probabilityDifferences.count) probability differences for \(slotCount) slots")
        }
        var relevant = SlotSet()
        for i in 0..<slotCount where entropies[i] < freshEntropy && probabilityDifferences[i] > freshProbabilityDifference {
            relevant.insert(i)
        }
        var appended: Int? = nil
        var recycled = false
        if relevant.isEmpty {
            let slot: Int
            if slotCount < configuration.slotCapacity {
                slot = slotCount
                slotCount += 1
            } else {
                slot = leastRecentlyUsedSlot()
                recycled = true
            }
            zeroResidual(slot)
            useCounts[slot] = 0
            relevant.insert(slot)
            appended = slot
        }
        for i in relevant {
            lastUsed[i] = step
            useCounts[i] += 1
        }
        step += 1
        return PromptSelection(slots: relevant, appendedSlot: appended, recycled: recycled)
    }

    /// Array convenience for `select` (tests, non-hot callers).
    public mutating func select(entropies: [Float], probabilityDifferences: [Float],
                                freshEntropy: Float, freshProbabilityDifference: Float) throws(AdaptationInputError) -> PromptSelection {
        // Typed throws do not pass through withUnsafeBufferPointer's rethrows; unwrap by hand.
        var result: Result<PromptSelection, AdaptationInputError> = .failure(AdaptationInputError(argument: "", ""))
        entropies.withUnsafeBufferPointer { e in
            probabilityDifferences.withUnsafeBufferPointer { d in
                result = Result { () throws(AdaptationInputError) in
                    try select(entropies: e, probabilityDifferences: d, freshEntropy: freshEntropy,
                               freshProbabilityDifference: freshProbabilityDifference)
                }
            }
        }
        return try result.get()
    }

    /// The slot a full buffer would recycle next: smallest last-used step, lowest index on ties.
    public func leastRecentlyUsedSlot() -> Int {
        var best = 0
        for i in 1..<Swift.max(1, slotCount) where lastUsed[i] < lastUsed[best] { best = i }
        return best
    }

    /// Resets one slot to the initial prompt (zero residual) and marks it never used, so it is
    /// the first to be recycled. The slot stays in the buffer (indices are stable) and, being
    /// equal to the fresh prompt, cannot be relevant until it is adapted again.
    public mutating func resetSlot(_ slot: Int) throws(AdaptationInputError) {
        try checkSlot(slot)
        zeroResidual(slot)
        lastUsed[slot] = Self.neverUsed
        useCounts[slot] = 0
    }

    /// Empties the buffer: every residual back to zero, no slots in use. The step keeps counting.
    public mutating func resetAll() {
        for i in residuals.indices { residuals[i] = 0 }
        for i in lastUsed.indices { lastUsed[i] = Self.neverUsed }
        for i in useCounts.indices { useCounts[i] = 0 }
        slotCount = 0
    }

    // MARK: - Internals

    private func checkSlot(_ slot: Int) throws(AdaptationInputError) {
        guard slot >= 0, slot < slotCount else {
            throw AdaptationInputError(argument: "PromptBuffer slot", "slot \(slot) is outside 0..<\(slotCount)")
        }
    }

    private mutating func zeroResidual(_ slot: Int) {
        let l = configuration.residualLength
        for i in slot * l ..< (slot + 1) * l { residuals[i] = 0 }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        configuration = try c.decode(Configuration.self, forKey: .configuration)
        slotCount = try c.decode(Int.self, forKey: .slotCount)
        step = try c.decode(Int.self, forKey: .step)
        residuals = try c.decode([Float].self, forKey: .residuals)
        lastUsed = try c.decode([Int].self, forKey: .lastUsed)
        useCounts = try c.decode([Int].self, forKey: .useCounts)
        let m = configuration.slotCapacity
        guard (0...m).contains(slotCount), step >= 0, residuals.count == m * configuration.residualLength,
              lastUsed.count == m, useCounts.count == m,
              lastUsed.allSatisfy({ $0 >= Self.neverUsed && $0 < step }), useCounts.allSatisfy({ $0 >= 0 }) else {
            throw corruptState(decoder, "prompt buffer state does not match its configuration")
        }
    }
}
