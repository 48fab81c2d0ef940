import TTADEngine

/// STAMP's replay memory (`RBM` in its `src/methods/stamp.py`): class-balanced by pseudo-label,
/// first in first out within a class. While there is room an item is appended to its class's
/// list; when full, the oldest item of a class drawn at random among the non-empty classes with
/// the most items is removed first, then the new item is appended — so the newest sample always
/// gets in, and the bank drifts toward equal class counts.
///
/// Why beside `MemoryBank` (RoTTA's CSTU, which the `ttad` preset uses): STAMP as published keeps
/// this simpler rule — no uncertainty or age score, nothing rejected — and the `stamp` preset
/// should replay what STAMP replays. The random class choice comes from a seeded SplitMix64
/// whose position is part of the state, so a checkpointed memory continues exactly.
public struct BalancedReplayMemory<Payload: Codable & Equatable>: Codable, Equatable {
    public let classCount: Int
    public let capacity: Int
    public let seed: UInt64
    /// Per class, oldest first.
    public private(set) var lists: [[Payload]]
    /// Random draws made so far (the generator's position).
    public private(set) var draws: UInt64 = 0

    public init(classCount: Int, capacity: Int = 64, seed: UInt64 = 0) throws(AdaptationConfigurationError) {
        try Validate.atLeast(classCount, 1, "BalancedReplayMemory.classCount")
        try Validate.atLeast(capacity, 1, "BalancedReplayMemory.capacity")
        self.classCount = classCount
        self.capacity = capacity
        self.seed = seed
        lists = Array(repeating: [], count: classCount)
    }

    public var count: Int { lists.reduce(0) { $0 + $1.count } }
    public var isFull: Bool { count >= capacity }

    /// Every stored item with its class, class by class, oldest first within a class.
    public var items: [(payload: Payload, classIndex: Int)] {
        lists.enumerated().flatMap { c, list in list.map { ($0, c) } }
    }

    /// Stores `payload` under `classIndex`; returns the class an item was evicted from, if one
    /// was. Throws, changing nothing, on a class outside 0..<C.
    @discardableResult
    public mutating func insert(_ payload: Payload, classIndex: Int) throws(AdaptationInputError) -> Int? {
        try Validate.classIndex(classIndex, classCount, "BalancedReplayMemory classIndex")
        var evicted: Int?
        if isFull {
            let most = lists.map(\.count).max() ?? 0
            let candidates = lists.indices.filter { lists[$0].count == most && most > 0 }
            let pick = candidates[Int(nextRandom() % UInt64(candidates.count))]
            lists[pick].removeFirst()
            evicted = pick
        }
        lists[classIndex].append(payload)
        return evicted
    }

    public mutating func removeAll() {
        for i in lists.indices { lists[i].removeAll() }
    }

    private mutating func nextRandom() -> UInt64 {
        // SplitMix64's state after n draws is seed + n·γ: recreate it at the stored position.
        var g = SplitMix64(seed: seed &+ draws &* 0x9E37_79B9_7F4A_7C15)
        draws += 1
        return g.next()
    }

    private enum CodingKeys: String, CodingKey { case classCount, capacity, seed, lists, draws }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let classCount = try c.decode(Int.self, forKey: .classCount)
        let capacity = try c.decode(Int.self, forKey: .capacity)
        let seed = try c.decode(UInt64.self, forKey: .seed)
        self = try decodingConfiguration(decoder) { () throws(AdaptationConfigurationError) in
            try BalancedReplayMemory(classCount: classCount, capacity: capacity, seed: seed)
        }
        let lists = try c.decode([[Payload]].self, forKey: .lists)
        guard lists.count == classCount, lists.reduce(0, { $0 + $1.count }) <= capacity else {
            throw corruptState(decoder, "replay memory does not match its class count or capacity")
        }
        self.lists = lists
        draws = try c.decode(UInt64.self, forKey: .draws)
    }
}

extension BalancedReplayMemory: Sendable where Payload: Sendable {}
