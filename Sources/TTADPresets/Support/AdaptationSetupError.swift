/// A preset that cannot be built from this configuration (reported against `adaptation.preset`).
public struct AdaptationSetupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
