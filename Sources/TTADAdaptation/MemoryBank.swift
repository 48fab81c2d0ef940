#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings of a `MemoryBank`. Defaults are RoTTA's (`MEMORY_SIZE=64`, `LAMBDA_T=1`,
/// `LAMBDA_U=1`) plus a byte budget RoTTA does not have: RoTTA stores 64 CIFAR images, the daemon
/// may store 224×224 images or embeddings and must stay inside a memory budget on small boxes.
public struct MemoryBankConfiguration: Codable, Equatable, Sendable {
    /// Number of classes C (≥ 2: the uncertainty term divides by ln C).
    public let classCount: Int
    /// Total capacity N (default 64). The per-class target is N/C, fractional as in RoTTA.
    public let capacity: Int
    /// λ_t, weight of the timeliness term (default 1).
    public let timelinessWeight: Double
    /// λ_u, weight of the uncertainty term (default 1).
    public let uncertaintyWeight: Double
    /// Upper bound on the summed payload sizes the caller reports (default 64 MiB).
    public let maxBytes: Int

    public static let defaultCapacity = 64
    public static let defaultMaxBytes = 64 << 20

    public init(classCount: Int, capacity: Int = MemoryBankConfiguration.defaultCapacity,
                timelinessWeight: Double = 1, uncertaintyWeight: Double = 1,
                maxBytes: Int = MemoryBankConfiguration.defaultMaxBytes) throws(AdaptationConfigurationError) {
        try Validate.atLeast(classCount, 2, "MemoryBank.classCount")
        try Validate.atLeast(capacity, 1, "MemoryBank.capacity")
        try Validate.nonNegative(timelinessWeight, "MemoryBank.timelinessWeight")
        try Validate.nonNegative(uncertaintyWeight, "MemoryBank.uncertaintyWeight")
        try Validate.atLeast(maxBytes, 1, "MemoryBank.maxBytes")
        self.classCount = classCount
        self.capacity = capacity
        self.timelinessWeight = timelinessWeight
        self.uncertaintyWeight = uncertaintyWeight
        self.maxBytes = maxBytes
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let classCount = try c.decode(Int.self, forKey: .classCount)
        let capacity = try c.decode(Int.self, forKey: .capacity)
        let lt = try c.decode(Double.self, forKey: .timelinessWeight)
        let lu = try c.decode(Double.self, forKey: .uncertaintyWeight)
        let maxBytes = try c.decode(Int.self, forKey: .maxBytes)
        self = try decodingConfiguration(decoder) { () throws(AdaptationConfigurationError) in
            try MemoryBankConfiguration(classCount: classCount, capacity: capacity, timelinessWeight: lt,
                                        uncertaintyWeight: lu, maxBytes: maxBytes)
        }
    }
}

/// One stored sample: the caller's payload (an image, an embedding, an id) with what the bank
/// needs to rank it. The age is not stored but derived from the bank's clock, so ageing every
/// item costs nothing per insert.
public struct MemoryItem<Payload: Codable & Equatable>: Codable, Equatable {
    public let payload: Payload
    /// The pseudo-label ŷ the item is filed under.
    public let classIndex: Int
    /// u: the prediction entropy in nats when the item was offered.
    public let uncertainty: Float
    /// Bytes the caller says the payload occupies (counted against `maxBytes`).
    public let byteSize: Int
    /// The bank's clock (insert attempts so far) when the item went in.
    public let insertedAt: Int
}

extension MemoryItem: Sendable where Payload: Sendable {}

/// What `MemoryBank.insert` did with an offered sample.
public enum MemoryBankInsertion: Equatable, Sendable {
    /// Stored; `evicted` items (0 when the bank had room, usually 1 when full, more only to
    /// satisfy the byte budget) were removed to make room.
    case added(evicted: Int)
    case rejected(Reason)

    public enum Reason: String, Codable, Sendable, CaseIterable {
        /// CSTU: every candidate for replacement scores no worse than the newcomer.
        case notBetterThanStored
        /// The payload alone is larger than `maxBytes`.
        case payloadTooLarge
        /// CSTU accepted it, but fitting it under `maxBytes` would evict an item that scores
        /// better than the newcomer.
        case byteBudget
    }

    public var isAdded: Bool { if case .added = self { true } else { false } }
}

/// A class-balanced memory of recent, confident samples to adapt on: RoTTA's category-balanced
/// sampling with timeliness and uncertainty (CSTU).
///
/// Why: adapting on the raw stream over-fits whatever class or domain is passing by (a camera
/// that sees one class for minutes), and adapting on stale samples fights the present. CSTU keeps
/// at most ≈ N/C items per class and prefers young, certain ones. Each item's heuristic score
/// (lower is better to keep) is
///
///     H(a, u) = λ_t · 1/(1 + exp(−a/N)) + λ_u · u / ln C
///
/// with a the item's age in insert attempts and u its entropy. A newcomer scores with a = 0, i.e.
/// `0.5·λ_t + λ_u·u/ln C`. Inserting (ŷ, u), exactly as RoTTA's `CSTU.add_instance`:
/// 1. class ŷ holds fewer than N/C items and the bank is not full → add;
/// 2. class ŷ holds fewer than N/C items and the bank is full → among the majority classes
///    (maximal occupancy) take the item with the largest H (ties: the last found, in class then
///    insertion order); if that H is larger than the newcomer's, replace it, else reject;
/// 3. class ŷ already holds N/C or more → the same, within class ŷ only;
/// and after every insert attempt, added or not, every stored item (the new one included) ages
/// by one. (The shorthand "add, or replace a majority class's worst item, unless ŷ is itself a
/// majority class" is what rules 1–3 amount to in a balanced bank; the test is really "does
/// class ŷ hold fewer than N/C items", and replacement always needs the victim to score worse
/// than the newcomer — RoTTA's `memory.py` and methods.md §3.3, followed here exactly.)
///
/// Byte budget (not in RoTTA): the caller reports each payload's size. If storing an accepted
/// newcomer would push the total above `maxBytes`, further items are evicted by the same rule as
/// case 2 (worst item of a majority class), but only items that score worse than the newcomer;
/// if that is not enough the newcomer is rejected and nothing is removed.
///
/// Admission (STAMP's entropy and agreement filter) is a separate part, `BankAdmission`: the bank
/// files whatever it is offered. Deterministic: no randomness anywhere.
public struct MemoryBank<Payload: Codable & Equatable>: Codable, Equatable {
    public let configuration: MemoryBankConfiguration
    /// One list per class, oldest first.
    public private(set) var classes: [[MemoryItem<Payload>]]
    /// Insert attempts so far; an item's age is `clock − insertedAt`.
    public private(set) var clock: Int
    /// Sum of the stored items' `byteSize`.
    public private(set) var totalBytes: Int
    /// Items stored.
    public private(set) var count: Int

    public init(configuration: MemoryBankConfiguration) {
        self.configuration = configuration
        classes = Array(repeating: [], count: configuration.classCount)
        clock = 0
        totalBytes = 0
        count = 0
    }

    public var isFull: Bool { count >= configuration.capacity }
    public var isEmpty: Bool { count == 0 }
    public var classCounts: [Int] { classes.map(\.count) }

    /// All items, class by class, oldest first within a class (the order RoTTA's `get_memory`
    /// returns). Allocates; for the adaptation batch, not for per-sample work.
    public var items: [MemoryItem<Payload>] { classes.flatMap { $0 } }

    /// Age of a stored item in insert attempts: 1 right after it went in (RoTTA ages the new
    /// item with the others).
    public func age(of item: MemoryItem<Payload>) -> Int { clock - item.insertedAt }

    /// H(a, u) for an age and an uncertainty.
    public func score(age: Int, uncertainty: Float) -> Double {
        let n = Double(configuration.capacity)
        let timeliness = 1 / (1 + exp(-Double(age) / n))
        return configuration.timelinessWeight * timeliness
            + configuration.uncertaintyWeight * Double(uncertainty) / log(Double(configuration.classCount))
    }

    /// H of a stored item at the current clock.
    public func score(of item: MemoryItem<Payload>) -> Double { score(age: age(of: item), uncertainty: item.uncertainty) }

    /// RoTTA's time-aware loss weight for an item, `w(ā) = exp(−ā)/(1 + exp(−ā))` with
    /// ā = age/N: ½ for a brand-new item, falling towards 0 as it ages. The objective multiplies
    /// each item's loss by it.
    public func timeAwareWeight(of item: MemoryItem<Payload>) -> Double {
        let a = Double(age(of: item)) / Double(configuration.capacity)
        return exp(-a) / (1 + exp(-a))
    }

    /// Offers a sample to the bank. Throws (and changes nothing, not even the clock) only for a
    /// caller bug: class out of range, negative or non-finite uncertainty, negative size.
    @discardableResult
    public mutating func insert(_ payload: Payload, classIndex: Int, uncertainty: Float,
                                byteSize: Int) throws(AdaptationInputError) -> MemoryBankInsertion {
        try Validate.classIndex(classIndex, configuration.classCount, "MemoryBank.insert classIndex")
        guard uncertainty.isFinite, uncertainty >= 0 else {
            throw AdaptationInputError(argument: "MemoryBank.insert uncertainty", "must be finite and ≥ 0, got \(uncertainty)")
        }
        guard byteSize >= 0 else {
            throw AdaptationInputError(argument: "MemoryBank.insert byteSize", "must be ≥ 0, got \(byteSize)")
        }
        defer { clock += 1 }                 // every attempt ages everything, as in RoTTA
        guard byteSize <= configuration.maxBytes else { return .rejected(.payloadTooLarge) }

        let newScore = score(age: 0, uncertainty: uncertainty)
        // CSTU's decision: add outright, replace one victim, or reject.
        var victim: Position? = nil
        let perClass = Double(configuration.capacity) / Double(configuration.classCount)
        if Double(classes[classIndex].count) < perClass {
            if count >= configuration.capacity {
                victim = worstInMajorityClasses(excluding: nil)
            }
        } else {
            victim = worst(inClass: classIndex, excluding: nil)
        }
        if let v = victim, !(v.score > newScore) { return .rejected(.notBetterThanStored) }

        // Byte budget: the common case needs no extra eviction and allocates nothing.
        let freed = victim.map { classes[$0.classIndex][$0.index].byteSize } ?? 0
        if totalBytes - freed + byteSize <= configuration.maxBytes {
            if let v = victim { remove(v) }
            append(payload, classIndex, uncertainty, byteSize)
            return .added(evicted: victim == nil ? 0 : 1)
        }
        var plan: [Position] = victim.map { [$0] } ?? []
        var bytes = totalBytes - freed
        while bytes + byteSize > configuration.maxBytes {
            guard let next = worstInMajorityClasses(excluding: plan), next.score > newScore else {
                return .rejected(.byteBudget)
            }
            plan.append(next)
            bytes -= classes[next.classIndex][next.index].byteSize
        }
        // Remove from the back of each class list first so earlier indices stay valid.
        plan.sort { ($0.classIndex, $0.index) > ($1.classIndex, $1.index) }
        for p in plan { remove(p) }
        append(payload, classIndex, uncertainty, byteSize)
        return .added(evicted: plan.count)
    }

    /// Empties the bank (a collapse reset); the clock keeps running.
    public mutating func removeAll() {
        for c in classes.indices { classes[c].removeAll(keepingCapacity: true) }
        totalBytes = 0
        count = 0
    }

    // MARK: - Internals

    struct Position {
        var classIndex: Int
        var index: Int
        var score: Double
    }

    private mutating func append(_ payload: Payload, _ classIndex: Int, _ uncertainty: Float, _ byteSize: Int) {
        classes[classIndex].append(MemoryItem(payload: payload, classIndex: classIndex, uncertainty: uncertainty,
                                              byteSize: byteSize, insertedAt: clock))
        totalBytes += byteSize
        count += 1
    }

    private mutating func remove(_ p: Position) {
        let item = classes[p.classIndex].remove(at: p.index)
        totalBytes -= item.byteSize
        count -= 1
    }

    /// The item with the largest score in one class, skipping planned removals; ties go to the
    /// last one found (RoTTA compares with `>=`).
    private func worst(inClass c: Int, excluding plan: [Position]?) -> Position? {
        var best: Position? = nil
        for (i, item) in classes[c].enumerated() {
            if let plan, plan.contains(where: { $0.classIndex == c && $0.index == i }) { continue }
            let s = score(of: item)
            if best == nil || s >= best!.score { best = Position(classIndex: c, index: i, score: s) }
        }
        return best
    }

    /// The worst item across the classes of maximal occupancy, counting planned removals as
    /// gone. Classes are scanned in index order, so ties go to the highest class index.
    private func worstInMajorityClasses(excluding plan: [Position]?) -> Position? {
        @inline(__always) func occupancy(_ c: Int) -> Int {
            guard let plan else { return classes[c].count }
            return classes[c].count - plan.reduce(0) { $0 + ($1.classIndex == c ? 1 : 0) }
        }
        var maxOccupancy = 0
        for c in classes.indices { maxOccupancy = Swift.max(maxOccupancy, occupancy(c)) }
        guard maxOccupancy > 0 else { return nil }
        var best: Position? = nil
        for c in classes.indices where occupancy(c) == maxOccupancy {
            if let w = worst(inClass: c, excluding: plan), best == nil || w.score >= best!.score { best = w }
        }
        return best
    }

    // MARK: - Codable (restores are validated)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        configuration = try c.decode(MemoryBankConfiguration.self, forKey: .configuration)
        classes = try c.decode([[MemoryItem<Payload>]].self, forKey: .classes)
        clock = try c.decode(Int.self, forKey: .clock)
        totalBytes = try c.decode(Int.self, forKey: .totalBytes)
        count = try c.decode(Int.self, forKey: .count)
        guard classes.count == configuration.classCount else {
            throw corruptState(decoder, "memory bank has \(classes.count) class lists for \(configuration.classCount) classes")
        }
        var n = 0, bytes = 0
        for (ci, list) in classes.enumerated() {
            for item in list {
                guard item.classIndex == ci, item.uncertainty.isFinite, item.uncertainty >= 0, item.byteSize >= 0,
                      item.insertedAt >= 0, item.insertedAt < clock else {
                    throw corruptState(decoder, "memory bank item in class \(ci) is inconsistent")
                }
                n += 1
                bytes += item.byteSize
            }
        }
        guard n == count, bytes == totalBytes, count <= configuration.capacity, totalBytes <= configuration.maxBytes else {
            throw corruptState(decoder, "memory bank totals do not match its items (\(n) items, \(bytes) bytes)")
        }
    }
}

extension MemoryBank: Sendable where Payload: Sendable {}
