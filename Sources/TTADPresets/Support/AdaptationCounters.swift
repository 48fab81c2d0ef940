/// What the `ttad` preset has done over its life (checkpointed with it).
public struct AdaptationCounters: Codable, Equatable, Sendable {
    public var steps = 0
    public var stepsUndone = 0
    public var bankInsertions = 0
    public var lastLoss: Float = .nan

    enum CodingKeys: String, CodingKey { case steps, stepsUndone, bankInsertions, lastLoss }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        steps = try c.decode(Int.self, forKey: .steps)
        stepsUndone = try c.decode(Int.self, forKey: .stepsUndone)
        bankInsertions = try c.decode(Int.self, forKey: .bankInsertions)
        lastLoss = try c.decodeIfPresent(Float.self, forKey: .lastLoss) ?? .nan
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(steps, forKey: .steps)
        try c.encode(stepsUndone, forKey: .stepsUndone)
        try c.encode(bankInsertions, forKey: .bankInsertions)
        if lastLoss.isFinite { try c.encode(lastLoss, forKey: .lastLoss) }   // JSON has no NaN
    }
}
