import TTADAdaptation

/// A reset to publish as an `event` and count.
public struct AdaptationReset: Sendable {
    public var decision: ResetDecision
    /// The adapted state's version after the reset.
    public var version: Int

    public init(decision: ResetDecision, version: Int) {
        self.decision = decision
        self.version = version
    }
}
