// Typed output messages (daemon → clients), shared by OutputEncoder and OutputDecoder.

/// Topic frames of output messages.
public enum OutputTopic {
    /// Predictions are published on `pred/<stream>`.
    public static let predictionPrefix = "pred/"
    public static let drift = "drift"
    public static let event = "event"
    public static let error = "error"

    public static func prediction(stream: String) -> String { predictionPrefix + stream }
}

/// One entry of a prediction's `top` list.
public struct TopClass: Sendable, Equatable {
    /// Class name (`class` on the wire).
    public var className: String
    /// Class index in the model's label list.
    public var index: Int
    /// Probability in [0, 1].
    public var p: Float

    public init(className: String, index: Int, p: Float) {
        self.className = className
        self.index = index
        self.p = p
    }
}

/// A prediction, published on `pred/<stream>`.
///
/// For allocation-free encoding keep one record per worker and refill it (`top` with
/// `removeAll(keepingCapacity: true)`), so only the strings' reference counts change.
public struct PredictionRecord: Sendable, Equatable {
    public var id: String
    public var stream: String
    public var seq: UInt64
    /// Echo of the input `ts`; written as `null` when the input had none.
    public var ts: Double?
    /// Top-k classes by descending `p` (the encoder writes them in the given order).
    public var top: [TopClass]
    /// Shannon entropy of the full predictive distribution, in nats.
    public var entropy: Float
    public var outlier: Bool
    /// Omitted when nil.
    public var outlierScore: Float?
    /// Omitted when nil.
    public var promptVersion: Int?
    /// Seconds from receipt of the input to publication; written with microsecond resolution.
    /// Omitted when nil.
    public var latencySeconds: Double?
    /// Echo of the input label; omitted when nil.
    public var label: SampleLabel?

    public init(id: String, stream: String, seq: UInt64, ts: Double? = nil, top: [TopClass] = [],
                entropy: Float = 0, outlier: Bool = false, outlierScore: Float? = nil, promptVersion: Int? = nil,
                latencySeconds: Double? = nil, label: SampleLabel? = nil) {
        self.id = id
        self.stream = stream
        self.seq = seq
        self.ts = ts
        self.top = top
        self.entropy = entropy
        self.outlier = outlier
        self.outlierScore = outlierScore
        self.promptVersion = promptVersion
        self.latencySeconds = latencySeconds
        self.label = label
    }
}

/// A rejected input, published on `error`.
public struct ErrorRecord: Sendable, Equatable {
    /// A `RejectReason` raw value. Decoders keep unknown strings (see `rejectReason`).
    public var reason: String
    public var detail: String
    public var id: String?
    public var stream: String?
    public var seq: UInt64?
    /// Daemon wall-clock time, seconds since the Unix epoch.
    public var tsS: Double

    public init(reason: String, detail: String, id: String? = nil, stream: String? = nil, seq: UInt64? = nil, tsS: Double) {
        self.reason = reason
        self.detail = detail
        self.id = id
        self.stream = stream
        self.seq = seq
        self.tsS = tsS
    }

    public init(_ r: Rejection, tsS: Double) {
        self.init(reason: r.reason.rawValue, detail: r.detail, id: r.sampleID, stream: r.stream, seq: r.seq, tsS: tsS)
    }

    /// The typed reason, nil if this daemon version does not know it.
    public var rejectReason: RejectReason? { RejectReason(rawValue: reason) }
}

/// The event kinds this daemon publishes (the `kind` field is an open string; clients ignore
/// unknown kinds). docs/protocol.md §5.2 lists exactly these, with their `detail` fields.
public enum EventKind {
    public static let started = "started"
    public static let stopping = "stopping"
    public static let checkpoint = "checkpoint"
    public static let reset = "reset"
    public static let gap = "gap"
    public static let restart = "restart"
    public static let heartbeat = "heartbeat"

    /// Every kind above; a test holds docs/protocol.md §5.2 to this set.
    public static let all: Set<String> = [started, stopping, checkpoint, reset, gap, restart, heartbeat]
}

/// A lifecycle / stream event, published on `event`.
public struct EventRecord: Sendable, Equatable {
    public var kind: String
    public var tsS: Double
    /// Small JSON object; `{}` when empty.
    public var detail: [JSONMember]

    public init(kind: String, tsS: Double, detail: [JSONMember] = []) {
        self.kind = kind
        self.tsS = tsS
        self.detail = detail
    }

    /// `gap` for a single gap: `seq` jumped from `lastSeq` to `seq`, `missing` = seq - lastSeq - 1.
    public static func gap(stream: String, lastSeq: UInt64, seq: UInt64, tsS: Double) -> EventRecord {
        gap(stream: stream, lastSeq: lastSeq, seq: seq, missing: seq &- lastSeq &- 1, gaps: 1, tsS: tsS)
    }

    /// `gap` for a span of `gaps` gaps (the daemon coalesces them, docs/protocol.md §5.2):
    /// `lastSeq` is the last seq before the first gap, `seq` the seq that ended the last one,
    /// `missing` the summed sizes of the gaps.
    public static func gap(stream: String, lastSeq: UInt64, seq: UInt64, missing: UInt64, gaps: Int,
                           tsS: Double) -> EventRecord {
        EventRecord(kind: EventKind.gap, tsS: tsS, detail: [
            JSONMember("stream", .string(stream)),
            JSONMember("last_seq", .int(Int64(lastSeq))),
            JSONMember("seq", .int(Int64(seq))),
            JSONMember("missing", .int(Int64(clamping: missing))),
            JSONMember("gaps", .int(Int64(gaps))),
        ])
    }

    /// `restart`: `seq` went back to 0 after `lastSeq` (producer restarted).
    public static func restart(stream: String, lastSeq: UInt64, tsS: Double) -> EventRecord {
        EventRecord(kind: EventKind.restart, tsS: tsS, detail: [
            JSONMember("stream", .string(stream)),
            JSONMember("last_seq", .int(Int64(lastSeq))),
        ])
    }
}

/// A named number (drift statistic).
public struct NamedValue: Sendable, Equatable {
    public var name: String
    public var value: Double

    public init(_ name: String, _ value: Double) {
        self.name = name
        self.value = value
    }
}

/// Drift statistics over the last window, published on `drift`.
public struct DriftRecord: Sendable, Equatable {
    public var tsS: Double
    /// Number of samples in the window.
    public var window: Int
    /// Statistic name → value, written as a JSON object in this order (names must be unique).
    public var stats: [NamedValue]
    /// Names of alarms raised for this window (empty array when none).
    public var alarms: [String]
    /// With `adaptation.scope = "stream"`: the adapted state whose samples this monitor sees (its
    /// stream id or `state_groups` prefix); nil (absent on the wire) in global scope.
    public var state: String?

    public init(tsS: Double, window: Int, stats: [NamedValue] = [], alarms: [String] = [], state: String? = nil) {
        self.tsS = tsS
        self.window = window
        self.stats = stats
        self.alarms = alarms
        self.state = state
    }
}

/// A decoded output message.
public enum OutputMessage: Sendable, Equatable {
    case prediction(PredictionRecord)
    case error(ErrorRecord)
    case event(EventRecord)
    case drift(DriftRecord)
    /// A topic this version does not know; the body is still parsed.
    case other(topic: String, body: JSONValue)
}
