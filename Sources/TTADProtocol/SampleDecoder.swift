// Parsing and validation of input messages `[topic][header][payload]` (protocol v1).

/// Validates input messages. Cheap to copy; safe to share across threads.
///
/// Check order (the first failing check decides the reason):
/// 1. frame count (`frame_count`)
/// 2. topic (`bad_topic`)
/// 3. header size (`header_too_large`), header JSON syntax (`bad_json`)
/// 4. header fields in the order v, id, stream, seq, ts, encoding, shape, label
///    (`missing_field`, `wrong_type`, `bad_value`, `unsupported_version`, `unknown_encoding`,
///    `wrong_shape`)
/// 5. `stream` = topic (`stream_mismatch`)
/// 6. payload size (`payload_too_large`), payload length vs. shape (`payload_length`)
/// 7. payload contents: image magic (`corrupt_image`), embedding values (`non_finite`, `zero_norm`)
public struct SampleDecoder: Sendable {
    public var limits: ProtocolLimits

    public init(limits: ProtocolLimits = .default) {
        self.limits = limits
    }

    // MARK: Public entry points

    /// Full validation of a 3-frame message. The payload array is shared, not copied.
    public func decode(frames: [[UInt8]]) -> Result<Sample, Rejection> {
        guard frames.count == WireProtocol.inputFrameCount else {
            var r = Rejection(reason: .frameCount, detail: "expected 3 frames [topic][header][payload], got \(frames.count)")
            if frames.count >= 2 {
                fillContext(&r, topic: frames[0], header: frames[1])
            } else if frames.count == 1, WireProtocol.isValidStreamID(frames[0]) {
                r.stream = String(decoding: frames[0], as: UTF8.self)
            }
            return .failure(r)
        }
        switch decode(topic: frames[0], header: frames[1], payload: frames[2]) {
        case .success(let h): return .success(Sample(header: h, payload: frames[2]))
        case .failure(let r): return .failure(r)
        }
    }

    /// Validates topic, header and payload.
    ///
    /// - Parameter validatePayloadContents: when false, the per-value scan of `f32-embedding`
    ///   payloads (`non_finite`, `zero_norm`) is skipped because the caller will run
    ///   `readEmbedding(payload:into:header:)`, which performs the same checks while copying.
    ///   Sizes, lengths and image magic bytes are always checked.
    public func decode(topic: [UInt8], header: [UInt8], payload: [UInt8],
                       validatePayloadContents: Bool = true) -> Result<SampleHeader, Rejection> {
        topic.withUnsafeBytes { t in
            header.withUnsafeBytes { h in
                payload.withUnsafeBytes { p in
                    decode(topic: t, header: h, payload: p, validatePayloadContents: validatePayloadContents)
                }
            }
        }
    }

    /// Zero-copy variant over raw frame memory (e.g. `zmq_msg_data`).
    public func decode(topic: UnsafeRawBufferPointer, header: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer,
                       validatePayloadContents: Bool = true) -> Result<SampleHeader, Rejection> {
        // 2. Topic.
        let topicBytes = topic.bindMemory(to: UInt8.self)
        guard WireProtocol.isValidStreamID(topicBytes) else {
            var r = Rejection(reason: .badTopic,
                              detail: "topic frame must be 1-\(WireProtocol.maxTopicBytes) bytes of [A-Za-z0-9._-] (got \(topic.count) bytes)")
            fillContext(&r, topicValid: false, topic: topicBytes, header: header)
            return .failure(r)
        }
        let topicString = String(decoding: topicBytes, as: UTF8.self)

        // 3. Header size and syntax.
        guard header.count <= limits.maxHeaderBytes else {
            return .failure(Rejection(reason: .headerTooLarge,
                                      detail: "header is \(header.count) bytes, limit \(limits.maxHeaderBytes)",
                                      stream: topicString))
        }
        guard let hbase = header.baseAddress, header.count > 0 else {
            return .failure(Rejection(reason: .badJSON, detail: "header: empty frame", stream: topicString))
        }
        var s = JSONScanner(base: hbase.assumingMemoryBound(to: UInt8.self), count: header.count, maxDepth: limits.maxHeaderDepth)
        let fields: HeaderFields
        do {
            fields = try scanHeaderObject(&s)
        } catch {
            return .failure(Rejection(reason: .badJSON, detail: "header: \(error)", stream: topicString))
        }

        // Context for rejections from here on.
        var ctx = Rejection(reason: .badValue, detail: "", stream: topicString)
        softContext(&ctx, fields: fields, scanner: &s, streamFromHeader: false)
        @inline(__always) func fail(_ reason: RejectReason, _ detail: String) -> Result<SampleHeader, Rejection> {
            var r = ctx
            r.reason = reason
            r.detail = detail
            return .failure(r)
        }

        // 4. Fields.
        // v
        switch readUInt(fields[.v], &s) {
        case .absent: return fail(.missingField, "field 'v' is required")
        case .wrongType(let t): return fail(.wrongType, "field 'v' must be an integer, got \(t)")
        case .negative, .tooLarge: return fail(.unsupportedVersion, "field 'v': unsupported protocol version, this daemon speaks v1")
        case .value(let v):
            guard v == UInt64(WireProtocol.version) else {
                return fail(.unsupportedVersion, "field 'v': unsupported protocol version \(v), this daemon speaks v1")
            }
        }
        // id
        let id: String
        switch readString(fields[.id], &s) {
        case .absent: return fail(.missingField, "field 'id' is required")
        case .wrongType(let t): return fail(.wrongType, "field 'id' must be a string, got \(t)")
        case .value(let tok):
            let n = s.decodedLength(tok)
            guard n >= 1 && n <= WireProtocol.maxIDBytes else {
                return fail(.badValue, "field 'id' must be 1-\(WireProtocol.maxIDBytes) bytes, got \(n)")
            }
            id = ctx.sampleID ?? s.string(tok)
        }
        // stream (compared with the topic in step 5)
        let streamToken: JSONStringToken
        switch readString(fields[.stream], &s) {
        case .absent: return fail(.missingField, "field 'stream' is required")
        case .wrongType(let t): return fail(.wrongType, "field 'stream' must be a string, got \(t)")
        case .value(let tok): streamToken = tok
        }
        // seq
        let seq: UInt64
        switch readUInt(fields[.seq], &s) {
        case .absent: return fail(.missingField, "field 'seq' is required")
        case .wrongType(let t): return fail(.wrongType, "field 'seq' must be an integer, got \(t)")
        case .negative: return fail(.badValue, "field 'seq' must be >= 0")
        case .tooLarge: return fail(.badValue, "field 'seq' must be < 2^53")
        case .value(let v):
            guard v <= WireProtocol.maxSafeInteger else { return fail(.badValue, "field 'seq' must be < 2^53") }
            seq = v
        }
        // ts (optional)
        var ts: Double? = nil
        let tsStart = fields[.ts]
        if tsStart >= 0 && !isNull(tsStart, s) {
            s.pos = tsStart
            guard isNumberStart(s.base[tsStart]) else {
                return fail(.wrongType, "field 'ts' must be a number, got \(typeName(s.base[tsStart]))")
            }
            let tok = try! s.scanNumber()
            let d = s.double(tok)
            guard d >= 0 else { return fail(.badValue, "field 'ts' must be >= 0 (seconds since the Unix epoch)") }
            ts = d
        }
        // encoding
        let encoding: SampleEncoding
        switch readString(fields[.encoding], &s) {
        case .absent: return fail(.missingField, "field 'encoding' is required")
        case .wrongType(let t): return fail(.wrongType, "field 'encoding' must be a string, got \(t)")
        case .value(let tok):
            guard let e = matchEncoding(tok, s) else {
                return fail(.unknownEncoding,
                            "field 'encoding' must be one of jpeg, png, raw-u8-hwc, f32-embedding, got \"\(clip(s.string(tok)))\"")
            }
            encoding = e
        }
        // shape
        var shape: SampleShape? = nil
        let shapeStart = fields[.shape]
        if shapeStart >= 0 && !isNull(shapeStart, s) {
            switch readShape(shapeStart, &s) {
            case .success(let sh): shape = sh
            case .failure(let e): return fail(e.reason, e.detail)
            }
        }
        switch encoding {
        case .f32Embedding:
            guard let sh = shape else { return fail(.missingField, "field 'shape' ([D]) is required for f32-embedding") }
            guard sh.rank == 1 else { return fail(.wrongShape, "field 'shape' must be [D] for f32-embedding, got \(sh)") }
            guard sh[0] <= limits.maxEmbeddingDim else {
                return fail(.wrongShape, "field 'shape': embedding dimension \(sh[0]) exceeds limit \(limits.maxEmbeddingDim)")
            }
            if let want = limits.expectedEmbeddingDim, sh[0] != want {
                return fail(.wrongShape, "field 'shape': embedding dimension \(sh[0]) but the model expects \(want)")
            }
        case .rawU8HWC, .jpeg, .png:
            if let sh = shape {
                guard sh.rank == 3 else { return fail(.wrongShape, "field 'shape' must be [H, W, C] for \(encoding.rawValue), got \(sh)") }
                guard sh[0] <= limits.maxImageSide && sh[1] <= limits.maxImageSide else {
                    return fail(.wrongShape, "field 'shape': image side exceeds limit \(limits.maxImageSide), got \(sh)")
                }
                // Sides are ≤ maxImageSide here, so the product cannot overflow.
                guard sh[0] * sh[1] <= limits.maxImagePixels else {
                    return fail(.wrongShape, "field 'shape': H × W = \(sh[0] * sh[1]) exceeds limit \(limits.maxImagePixels), got \(sh)")
                }
                guard sh[2] == 1 || sh[2] == 3 else {
                    return fail(.wrongShape, "field 'shape': channel count C must be 1 or 3, got \(sh[2])")
                }
            } else if encoding == .rawU8HWC {
                return fail(.missingField, "field 'shape' ([H, W, C]) is required for raw-u8-hwc")
            }
        }
        // label (optional)
        var label: SampleLabel? = nil
        let labelStart = fields[.label]
        if labelStart >= 0 && !isNull(labelStart, s) {
            let b = s.base[labelStart]
            if b == UInt8(ascii: "\"") {
                s.pos = labelStart
                let tok = try! s.scanString()
                let n = s.decodedLength(tok)
                guard n >= 1 && n <= WireProtocol.maxLabelBytes else {
                    return fail(.badValue, "field 'label' string must be 1-\(WireProtocol.maxLabelBytes) bytes, got \(n)")
                }
                label = .name(s.string(tok))
            } else {
                switch readUInt(labelStart, &s) {
                case .absent: break
                case .wrongType(let t): return fail(.wrongType, "field 'label' must be an integer or a string, got \(t)")
                case .negative: return fail(.badValue, "field 'label' index must be >= 0")
                case .tooLarge: return fail(.badValue, "field 'label' index must be < 2^53")
                case .value(let v):
                    guard v <= WireProtocol.maxSafeInteger else { return fail(.badValue, "field 'label' index must be < 2^53") }
                    label = .index(Int(v))
                }
            }
        }

        // 5. stream = topic.
        guard s.equals(streamToken, topicBytes) else {
            return fail(.streamMismatch, "field 'stream' (\"\(clip(s.string(streamToken)))\") differs from the topic frame (\"\(topicString)\")")
        }

        let h = SampleHeader(v: 1, id: id, stream: topicString, seq: seq, ts: ts, encoding: encoding, shape: shape, label: label)

        // 6./7. Payload.
        if let r = checkPayload(payload, header: h, validateContents: validatePayloadContents) {
            return .failure(r)
        }
        return .success(h)
    }

    /// Payload checks for an already validated header: size, length vs. shape, image magic, and
    /// (if `validateContents`) embedding values. Exposed for callers that split header and
    /// payload handling.
    public func checkPayload(_ payload: UnsafeRawBufferPointer, header h: SampleHeader, validateContents: Bool = true) -> Rejection? {
        func fail(_ reason: RejectReason, _ detail: String) -> Rejection {
            Rejection(reason: reason, detail: detail, header: h)
        }
        guard payload.count <= limits.maxPayloadBytes else {
            return fail(.payloadTooLarge, "payload is \(payload.count) bytes, limit \(limits.maxPayloadBytes)")
        }
        switch h.encoding {
        case .f32Embedding:
            let d = h.shape?[0] ?? 0
            guard payload.count == 4 * d else {
                return fail(.payloadLength, "payload is \(payload.count) bytes, f32-embedding of shape [\(d)] needs \(4 * d)")
            }
            if validateContents, let r = Self.checkEmbeddingValues(payload, count: d) {
                return fail(r.reason, r.detail)
            }
        case .rawU8HWC:
            let n = h.shape?.elementCount ?? -1
            guard payload.count == n else {
                return fail(.payloadLength, "payload is \(payload.count) bytes, raw-u8-hwc of shape \(h.shape!) needs \(n)")
            }
        case .jpeg, .png:
            guard Self.hasImageMagic(h.encoding, payload) else {
                return fail(.corruptImage, "payload does not start with the \(h.encoding.rawValue) signature")
            }
        }
        return nil
    }

    // MARK: Embeddings

    /// Copies a little-endian f32 payload into `into` (whose count is the expected D) and checks
    /// it: `payload_length` if `payload.count != 4 * into.count`, `non_finite` for NaN/±inf,
    /// `zero_norm` if every value is ±0. On rejection the contents of `into` are unspecified.
    public func readEmbedding(payload: [UInt8], into: UnsafeMutableBufferPointer<Float>, header: SampleHeader? = nil) -> Rejection? {
        payload.withUnsafeBytes { readEmbedding(payload: $0, into: into, header: header) }
    }

    public func readEmbedding(payload: UnsafeRawBufferPointer, into: UnsafeMutableBufferPointer<Float>, header: SampleHeader? = nil) -> Rejection? {
        func fail(_ reason: RejectReason, _ detail: String) -> Rejection {
            if let header { return Rejection(reason: reason, detail: detail, header: header) }
            return Rejection(reason: reason, detail: detail)
        }
        let d = into.count
        guard payload.count == 4 * d else {
            return fail(.payloadLength, "payload is \(payload.count) bytes, expected \(4 * d) for \(d) float32 values")
        }
        guard d > 0, let dst = into.baseAddress, let src = payload.baseAddress else {
            return fail(.zeroNorm, "embedding is empty")
        }
        UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: 4 * d)
        #if _endian(big)
        for i in 0..<d { into[i] = Float(bitPattern: UInt32(littleEndian: into[i].bitPattern)) }
        #endif
        if let r = Self.checkEmbeddingValues(UnsafeRawBufferPointer(into), count: d) {
            return fail(r.reason, r.detail)
        }
        return nil
    }

    /// Scans `count` little-endian float32 values: nil if all finite and not all zero.
    static func checkEmbeddingValues(_ p: UnsafeRawBufferPointer, count: Int) -> (reason: RejectReason, detail: String)? {
        guard count > 0, let base = p.baseAddress else { return (.zeroNorm, "embedding is empty") }
        var expAcc: UInt32 = 0
        var nonZero: UInt32 = 0
        for i in 0..<count {
            let b = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self))
            // Exponent all ones (NaN/inf) makes this sum exactly 0x8000_0000.
            expAcc |= (b & 0x7F80_0000) &+ 0x0080_0000
            nonZero |= b & 0x7FFF_FFFF
        }
        if expAcc & 0x8000_0000 != 0 {
            var first = 0
            for i in 0..<count {
                let b = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self))
                if b & 0x7F80_0000 == 0x7F80_0000 { first = i; break }
            }
            let v = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: first * 4, as: UInt32.self)))
            return (.nonFinite, "embedding value [\(first)] is \(v)")
        }
        if nonZero == 0 { return (.zeroNorm, "embedding is all zeros") }
        return nil
    }

    // MARK: Images

    static let jpegMagic: [UInt8] = [0xFF, 0xD8, 0xFF]
    static let pngMagic: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// True if a jpeg/png payload starts with its signature (always true for other encodings).
    public static func hasImageMagic(_ encoding: SampleEncoding, _ payload: UnsafeRawBufferPointer) -> Bool {
        let magic: [UInt8]
        switch encoding {
        case .jpeg: magic = jpegMagic
        case .png: magic = pngMagic
        default: return true
        }
        guard payload.count >= magic.count else { return false }
        for i in 0..<magic.count where payload[i] != magic[i] { return false }
        return true
    }

    public static func hasImageMagic(_ encoding: SampleEncoding, _ payload: [UInt8]) -> Bool {
        payload.withUnsafeBytes { hasImageMagic(encoding, $0) }
    }
}

// MARK: - Header scanning internals

enum HeaderField: Int, CaseIterable {
    case v, id, stream, seq, ts, encoding, shape, label
}

/// Value start offsets of the known header fields (-1 = absent).
struct HeaderFields {
    var starts: (Int, Int, Int, Int, Int, Int, Int, Int) = (-1, -1, -1, -1, -1, -1, -1, -1)

    subscript(f: HeaderField) -> Int {
        get {
            switch f {
            case .v: return starts.0
            case .id: return starts.1
            case .stream: return starts.2
            case .seq: return starts.3
            case .ts: return starts.4
            case .encoding: return starts.5
            case .shape: return starts.6
            case .label: return starts.7
            }
        }
        set {
            switch f {
            case .v: starts.0 = newValue
            case .id: starts.1 = newValue
            case .stream: starts.2 = newValue
            case .seq: starts.3 = newValue
            case .ts: starts.4 = newValue
            case .encoding: starts.5 = newValue
            case .shape: starts.6 = newValue
            case .label: starts.7 = newValue
            }
        }
    }
}

enum UIntRead {
    case absent
    case wrongType(String)
    case negative
    case tooLarge
    case value(UInt64)
}

enum StringRead {
    case absent
    case wrongType(String)
    case value(JSONStringToken)
}

@inline(__always)
private func isNumberStart(_ b: UInt8) -> Bool { b == UInt8(ascii: "-") || (b >= 0x30 && b <= 0x39) }

private func typeName(_ first: UInt8) -> String {
    switch first {
    case UInt8(ascii: "\""): return "a string"
    case UInt8(ascii: "{"): return "an object"
    case UInt8(ascii: "["): return "an array"
    case UInt8(ascii: "t"), UInt8(ascii: "f"): return "a boolean"
    case UInt8(ascii: "n"): return "null"
    default: return "a number"
    }
}

private func clip(_ s: String) -> String {
    s.utf8.count <= 64 ? s : String(s.prefix(60)) + "..."
}

extension SampleDecoder {
    /// Scans the header object, validating all of it, and records where known fields start.
    func scanHeaderObject(_ s: inout JSONScanner) throws(JSONError) -> HeaderFields {
        var fields = HeaderFields()
        s.skipWhitespace()
        guard s.peek() == UInt8(ascii: "{") else {
            if s.atEnd { throw s.error("empty document") }
            // Distinguish "valid JSON but not an object" from garbage for a better message.
            try s.skipValue(depth: 0)
            try s.expectEnd()
            throw JSONError(offset: 0, message: "header must be a JSON object")
        }
        guard s.maxDepth >= 1 else { throw s.error("nesting deeper than \(s.maxDepth)") }
        s.pos += 1
        s.skipWhitespace()
        if s.peek() == UInt8(ascii: "}") {
            s.pos += 1
            try s.expectEnd()
            return fields
        }
        var unknownKeys = DuplicateKeyChecker()
        var seen: UInt8 = 0
        while true {
            s.skipWhitespace()
            guard s.peek() == UInt8(ascii: "\"") else { throw s.error("expected a string key") }
            let keyPos = s.pos
            let key = try s.scanString()
            let known = identifyField(key, s)
            if let known {
                let bit = UInt8(1) << UInt8(known.rawValue)
                if seen & bit != 0 { s.pos = keyPos; throw s.error("duplicate key") }
                seen |= bit
            } else if !unknownKeys.insert(key, scanner: s) {
                s.pos = keyPos
                throw s.error("duplicate key")
            }
            s.skipWhitespace()
            try s.expect(UInt8(ascii: ":"), "':'")
            s.skipWhitespace()
            if let known { fields[known] = s.pos }
            try s.skipValue(depth: 1)
            s.skipWhitespace()
            guard let b = s.peek() else { throw s.error("unterminated object") }
            s.pos += 1
            if b == UInt8(ascii: "}") { break }
            guard b == UInt8(ascii: ",") else { s.pos -= 1; throw s.error("expected ',' or '}'") }
        }
        try s.expectEnd()
        return fields
    }

    private func identifyField(_ key: JSONStringToken, _ s: JSONScanner) -> HeaderField? {
        if key.hasEscapes {
            var bytes: [UInt8] = []
            s.appendDecoded(key, to: &bytes)
            return bytes.withUnsafeBufferPointer { identifyField(bytes: $0) }
        }
        return identifyField(bytes: UnsafeBufferPointer(start: s.base + key.start, count: key.end - key.start))
    }

    private func identifyField(bytes k: UnsafeBufferPointer<UInt8>) -> HeaderField? {
        @inline(__always) func eq(_ lit: StaticString) -> Bool {
            let p = lit.utf8Start
            for i in 0..<k.count where k[i] != p[i] { return false }
            return true
        }
        switch k.count {
        case 1: return k[0] == UInt8(ascii: "v") ? .v : nil
        case 2: return eq("id") ? .id : eq("ts") ? .ts : nil
        case 3: return eq("seq") ? .seq : nil
        case 5: return eq("shape") ? .shape : eq("label") ? .label : nil
        case 6: return eq("stream") ? .stream : nil
        case 8: return eq("encoding") ? .encoding : nil
        default: return nil
        }
    }

    private func matchEncoding(_ t: JSONStringToken, _ s: JSONScanner) -> SampleEncoding? {
        func check(_ lit: StaticString) -> Bool {
            s.equals(t, UnsafeBufferPointer(start: lit.utf8Start, count: lit.utf8CodeUnitCount))
        }
        if check("f32-embedding") { return .f32Embedding }
        if check("jpeg") { return .jpeg }
        if check("png") { return .png }
        if check("raw-u8-hwc") { return .rawU8HWC }
        return nil
    }

    @inline(__always)
    fileprivate func isNull(_ start: Int, _ s: JSONScanner) -> Bool { s.base[start] == UInt8(ascii: "n") }

    /// Reads an integer field; JSON null counts as absent. Only valid after `scanHeaderObject`.
    fileprivate func readUInt(_ start: Int, _ s: inout JSONScanner) -> UIntRead {
        guard start >= 0 else { return .absent }
        let b = s.base[start]
        if b == UInt8(ascii: "n") { return .absent }
        guard isNumberStart(b) else { return .wrongType(typeName(b)) }
        s.pos = start
        let tok = try! s.scanNumber()
        guard tok.isInteger else { return .wrongType("a number with a fraction or exponent") }
        guard let m = s.integerMagnitude(tok) else { return tok.negative ? .negative : .tooLarge }
        if tok.negative && m != 0 { return .negative }
        return .value(m)
    }

    fileprivate func readString(_ start: Int, _ s: inout JSONScanner) -> StringRead {
        guard start >= 0 else { return .absent }
        let b = s.base[start]
        if b == UInt8(ascii: "n") { return .absent }
        guard b == UInt8(ascii: "\"") else { return .wrongType(typeName(b)) }
        s.pos = start
        return .value(try! s.scanString())
    }

    fileprivate func readShape(_ start: Int, _ s: inout JSONScanner) -> Result<SampleShape, Rejection> {
        let b = s.base[start]
        guard b == UInt8(ascii: "[") else {
            return .failure(Rejection(reason: .wrongType, detail: "field 'shape' must be an array of integers, got \(typeName(b))"))
        }
        s.pos = start + 1
        var shape = SampleShape()
        s.skipWhitespace()
        if s.peek() == UInt8(ascii: "]") {
            return .failure(Rejection(reason: .wrongShape, detail: "field 'shape' is empty"))
        }
        while true {
            s.skipWhitespace()
            let e = s.base[s.pos]
            guard isNumberStart(e) else {
                return .failure(Rejection(reason: .wrongType, detail: "field 'shape' elements must be integers, got \(typeName(e))"))
            }
            let tok = try! s.scanNumber()
            guard tok.isInteger else {
                return .failure(Rejection(reason: .wrongType, detail: "field 'shape' elements must be integers, got a number with a fraction or exponent"))
            }
            let m = s.integerMagnitude(tok)
            guard !tok.negative, let m, m >= 1, m <= UInt64(Int32.max) else {
                return .failure(Rejection(reason: .wrongShape, detail: "field 'shape' dimensions must be positive integers"))
            }
            guard shape.rank < SampleShape.maxRank else {
                return .failure(Rejection(reason: .wrongShape, detail: "field 'shape' has more than \(SampleShape.maxRank) dimensions"))
            }
            shape.append(Int(m))
            s.skipWhitespace()
            let c = s.base[s.pos]
            s.pos += 1
            if c == UInt8(ascii: "]") { return .success(shape) }
        }
    }

    /// Fills id/stream/seq of a rejection from whatever parses (used for early failures).
    func fillContext(_ r: inout Rejection, topic: [UInt8], header: [UInt8]) {
        topic.withUnsafeBytes { t in
            header.withUnsafeBytes { h in
                let tb = t.bindMemory(to: UInt8.self)
                fillContext(&r, topicValid: WireProtocol.isValidStreamID(tb), topic: tb, header: h)
            }
        }
    }

    func fillContext(_ r: inout Rejection, topicValid: Bool, topic: UnsafeBufferPointer<UInt8>, header: UnsafeRawBufferPointer) {
        if topicValid { r.stream = String(decoding: topic, as: UTF8.self) }
        guard header.count <= limits.maxHeaderBytes, let base = header.baseAddress, header.count > 0 else { return }
        var s = JSONScanner(base: base.assumingMemoryBound(to: UInt8.self), count: header.count, maxDepth: limits.maxHeaderDepth)
        guard let fields = try? scanHeaderObject(&s) else { return }
        softContext(&r, fields: fields, scanner: &s, streamFromHeader: !topicValid)
    }

    /// Best-effort id / stream / seq from a syntactically valid header.
    fileprivate func softContext(_ r: inout Rejection, fields: HeaderFields, scanner s: inout JSONScanner, streamFromHeader: Bool) {
        if case .value(let tok) = readString(fields[.id], &s) {
            let n = s.decodedLength(tok)
            if n >= 1 && n <= WireProtocol.maxIDBytes { r.sampleID = s.string(tok) }
        }
        if case .value(let v) = readUInt(fields[.seq], &s), v <= WireProtocol.maxSafeInteger { r.seq = v }
        if streamFromHeader, case .value(let tok) = readString(fields[.stream], &s) {
            let str = s.string(tok)
            if WireProtocol.isValidStreamID(str) { r.stream = str }
        }
    }
}
