/// `frozen`: nothing adapts; the source model predicts every sample.
public final class FrozenPreset: AdaptationPreset {
    static let descriptor = PresetDescriptor(name: .frozen, worksOnEmbeddings: true,
                                             summary: "nothing adapts: the source model predicts") { _ in FrozenPreset() }

    public init() {}

    public var version: Int { 0 }
    public var reportsAdaptation: Bool { false }
    public func takeReport() -> AdaptationReport? { nil }
    public func checkpoint() -> AdaptationCheckpoint? { nil }
    public func restore(_ c: AdaptationCheckpoint) -> String? { "this daemon does not adapt" }
}
