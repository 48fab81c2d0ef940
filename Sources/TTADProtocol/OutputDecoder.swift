/// Why an output message could not be decoded.
public struct OutputDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Decodes output messages `[topic][json]` (used by `ttad subscribe` and tests).
///
/// Lenient where clients must be lenient (unknown fields are ignored, unknown topics come back
/// as `.other`), strict about JSON syntax, `v` = 1 and the presence/types of required fields.
public struct OutputDecoder: Sendable {
    public var reader: JSONReader

    public init(maxBytes: Int = 1 << 20, maxDepth: Int = 64) {
        reader = JSONReader(maxDepth: maxDepth, maxBytes: maxBytes)
    }

    /// Parses a body into a generic JSON value (no schema checks).
    public func decodeJSON(body: [UInt8]) throws(OutputDecodeError) -> JSONValue {
        do {
            return try reader.parse(body)
        } catch {
            throw OutputDecodeError("invalid JSON: \(error)")
        }
    }

    public func decode(frames: [[UInt8]]) throws(OutputDecodeError) -> OutputMessage {
        guard frames.count == 2 else { throw OutputDecodeError("expected 2 frames [topic][json], got \(frames.count)") }
        return try decode(topic: frames[0], body: frames[1])
    }

    public func decode(topic topicBytes: [UInt8], body: [UInt8]) throws(OutputDecodeError) -> OutputMessage {
        guard let topic = String(validating: topicBytes, as: UTF8.self) else {
            throw OutputDecodeError("topic is not UTF-8")
        }
        let json = try decodeJSON(body: body)
        guard case .object = json else { throw OutputDecodeError("body is not a JSON object") }
        let f = Fields(json)
        let v = try f.int("v")
        guard v == Int64(WireProtocol.version) else { throw OutputDecodeError("unsupported version \(v)") }

        if topic.hasPrefix(OutputTopic.predictionPrefix) {
            let p = try decodePrediction(f)
            guard topic.utf8.count == OutputTopic.predictionPrefix.utf8.count + p.stream.utf8.count,
                  topic.hasSuffix(p.stream) else {
                throw OutputDecodeError("topic \(topic) does not match stream \(p.stream)")
            }
            return .prediction(p)
        }
        switch topic {
        case OutputTopic.error:
            return .error(ErrorRecord(reason: try f.string("reason"), detail: try f.string("detail"),
                                      id: try f.optString("id"), stream: try f.optString("stream"),
                                      seq: try f.optUInt("seq"), tsS: try f.number("ts_s")))
        case OutputTopic.event:
            var detail: [JSONMember] = []
            if let d = f.optional("detail") {
                guard case .object(let members) = d else { throw OutputDecodeError("field 'detail' must be an object") }
                detail = members
            }
            return .event(EventRecord(kind: try f.string("kind"), tsS: try f.number("ts_s"), detail: detail))
        case OutputTopic.drift:
            guard case .object(let statMembers)? = f.optional("stats") else { throw OutputDecodeError("field 'stats' must be an object") }
            var stats: [NamedValue] = []
            for m in statMembers {
                switch m.value {
                case .null: stats.append(NamedValue(m.key, .nan))
                default:
                    guard let d = m.value.doubleValue else { throw OutputDecodeError("stat '\(m.key)' must be a number") }
                    stats.append(NamedValue(m.key, d))
                }
            }
            guard case .array(let alarmValues)? = f.optional("alarms") else { throw OutputDecodeError("field 'alarms' must be an array") }
            var alarms: [String] = []
            for a in alarmValues {
                guard let s = a.stringValue else { throw OutputDecodeError("field 'alarms' must contain strings") }
                alarms.append(s)
            }
            let window = try f.int("window")
            var state: String?
            if let s = f.optional("state") {
                guard let name = s.stringValue else { throw OutputDecodeError("field 'state' must be a string") }
                state = name
            }
            return .drift(DriftRecord(tsS: try f.number("ts_s"), window: Int(window), stats: stats, alarms: alarms, state: state))
        default:
            return .other(topic: topic, body: json)
        }
    }

    private func decodePrediction(_ f: Fields) throws(OutputDecodeError) -> PredictionRecord {
        guard case .array(let topValues)? = f.optional("top") else { throw OutputDecodeError("field 'top' must be an array") }
        var top: [TopClass] = []
        top.reserveCapacity(topValues.count)
        for t in topValues {
            guard case .object = t else { throw OutputDecodeError("field 'top' must contain objects") }
            let tf = Fields(t)
            top.append(TopClass(className: try tf.string("class"), index: Int(try tf.int("index")), p: Float(try tf.number("p"))))
        }
        var label: SampleLabel? = nil
        switch f.optional("label") {
        case nil: break
        case .string(let s)?: label = .name(s)
        case let l?:
            guard let i = l.intValue, i >= 0 else { throw OutputDecodeError("field 'label' must be a non-negative integer or a string") }
            label = .index(Int(i))
        }
        let ts: Double? = f.optional("ts") == nil ? nil : try f.number("ts")
        let score: Float? = f.optional("outlier_score") == nil ? nil : Float(try f.number("outlier_score"))
        let latency: Double? = f.optional("latency_s") == nil ? nil : try f.number("latency_s")
        let pv: Int? = f.optional("prompt_version") == nil ? nil : Int(try f.int("prompt_version"))
        guard case .bool(let outlier)? = f.optional("outlier") else { throw OutputDecodeError("field 'outlier' must be a boolean") }
        return PredictionRecord(id: try f.string("id"), stream: try f.string("stream"), seq: try f.uint("seq"), ts: ts,
                                top: top, entropy: Float(try f.number("entropy")), outlier: outlier, outlierScore: score,
                                promptVersion: pv, latencySeconds: latency, label: label)
    }
}

/// Typed field access on a decoded object; `null` counts as absent for optional fields and as
/// NaN for required numbers (non-finite numbers are written as null).
private struct Fields {
    let value: JSONValue
    init(_ v: JSONValue) { value = v }

    func optional(_ k: String) -> JSONValue? {
        guard let v = value[k], !v.isNull else { return nil }
        return v
    }

    func string(_ k: String) throws(OutputDecodeError) -> String {
        guard let v = value[k] else { throw OutputDecodeError("missing field '\(k)'") }
        guard let s = v.stringValue else { throw OutputDecodeError("field '\(k)' must be a string") }
        return s
    }

    func optString(_ k: String) throws(OutputDecodeError) -> String? {
        guard optional(k) != nil else { return nil }
        return try string(k)
    }

    func number(_ k: String) throws(OutputDecodeError) -> Double {
        guard let v = value[k] else { throw OutputDecodeError("missing field '\(k)'") }
        if v.isNull { return .nan }
        guard let d = v.doubleValue else { throw OutputDecodeError("field '\(k)' must be a number") }
        return d
    }

    func int(_ k: String) throws(OutputDecodeError) -> Int64 {
        guard let v = value[k] else { throw OutputDecodeError("missing field '\(k)'") }
        guard case .int(let i) = v else { throw OutputDecodeError("field '\(k)' must be an integer") }
        return i
    }

    func uint(_ k: String) throws(OutputDecodeError) -> UInt64 {
        let i = try int(k)
        guard i >= 0 else { throw OutputDecodeError("field '\(k)' must be >= 0") }
        return UInt64(i)
    }

    func optUInt(_ k: String) throws(OutputDecodeError) -> UInt64? {
        guard optional(k) != nil else { return nil }
        return try uint(k)
    }
}
