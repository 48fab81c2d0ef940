/// A bad configuration value, naming the parameter (`"MemoryBank.capacity"`) so a config file
/// error can be traced to its key without reading code.
///
/// Every adaptation part validates its configuration in a throwing initialiser: a daemon that
/// runs for months must refuse a nonsensical value at start, not misbehave on sample 10⁶.
public struct AdaptationConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public let parameter: String
    public let message: String

    public init(parameter: String, _ message: String) {
        self.parameter = parameter
        self.message = message
    }

    public var description: String { "invalid \(parameter): \(message)" }
}

/// A call that breaks a part's contract at run time (a class index out of range, a vector of
/// the wrong length). Distinct from configuration errors: these are bugs in the caller, and
/// the part's state is left unchanged when one is thrown.
public struct AdaptationInputError: Error, Equatable, Sendable, CustomStringConvertible {
    public let argument: String
    public let message: String

    public init(argument: String, _ message: String) {
        self.argument = argument
        self.message = message
    }

    public var description: String { "invalid \(argument): \(message)" }
}

// MARK: - Validation helpers shared by the configurations

enum Validate {
    typealias Failure = AdaptationConfigurationError

    static func atLeast(_ value: Int, _ minimum: Int, _ name: String) throws(Failure) {
        guard value >= minimum else { throw Failure(parameter: name, "must be ≥ \(minimum), got \(value)") }
    }

    static func inRange(_ value: Int, _ range: ClosedRange<Int>, _ name: String) throws(Failure) {
        guard range.contains(value) else {
            throw Failure(parameter: name, "must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
    }

    static func finite(_ value: Double, _ name: String) throws(Failure) {
        guard value.isFinite else { throw Failure(parameter: name, "must be finite, got \(value)") }
    }

    static func nonNegative(_ value: Double, _ name: String) throws(Failure) {
        guard value.isFinite, value >= 0 else { throw Failure(parameter: name, "must be finite and ≥ 0, got \(value)") }
    }

    static func positive(_ value: Double, _ name: String) throws(Failure) {
        guard value.isFinite, value > 0 else { throw Failure(parameter: name, "must be finite and > 0, got \(value)") }
    }

    /// `lower < value < upper` (open interval), e.g. probabilities that must not be 0 or 1.
    static func open(_ value: Double, _ lower: Double, _ upper: Double, _ name: String) throws(Failure) {
        guard value.isFinite, value > lower, value < upper else {
            throw Failure(parameter: name, "must be in (\(lower), \(upper)), got \(value)")
        }
    }

    /// `lower ≤ value ≤ upper`.
    static func closed(_ value: Double, _ lower: Double, _ upper: Double, _ name: String) throws(Failure) {
        guard value.isFinite, value >= lower, value <= upper else {
            throw Failure(parameter: name, "must be in [\(lower), \(upper)], got \(value)")
        }
    }

    static func classIndex(_ value: Int, _ classCount: Int, _ name: String) throws(AdaptationInputError) {
        guard value >= 0, value < classCount else {
            throw AdaptationInputError(argument: name, "class \(value) is outside 0..<\(classCount)")
        }
    }
}

/// The error a restored (decoded) state throws when it breaks an invariant: a corrupt or
/// hand-edited checkpoint must be refused at restore, not crash the daemon later.
func corruptState(_ decoder: any Decoder, _ what: String) -> DecodingError {
    .dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath, debugDescription: what))
}

/// Rethrows a configuration error met while decoding as a decoding error (a checkpoint or
/// config file holding an invalid value).
func decodingConfiguration<T>(_ decoder: any Decoder, _ make: () throws(AdaptationConfigurationError) -> T) throws -> T {
    do {
        return try make()
    } catch {
        throw corruptState(decoder, error.description)
    }
}
