import TTADAdaptation

extension ResetReason {
    /// The reason as it appears in metrics labels and `reset` events.
    public var label: String {
        switch self {
        case .entropyEMA: "entropy_ema"
        case .classCollapse: "class_collapse"
        case .disagreement: "disagreement"
        case .nonFinite: "non_finite"
        case .periodic: "periodic"
        }
    }
}
