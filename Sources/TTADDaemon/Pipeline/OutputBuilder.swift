import Foundation
import TTADModel
import TTADProtocol

/// Turns the pipeline's results into output messages with the protocol's encoder (one reusable
/// pair of buffers, so encoding does not allocate; only the queued copy of the frames does).
struct OutputBuilder {
    private var encoder = OutputEncoder(capacity: 1024)
    private var record = PredictionRecord(id: "", stream: "", seq: 0)
    private let classNames: [String]

    init(classNames: [String]) {
        self.classNames = classNames
        record.top.reserveCapacity(16)
    }

    /// 1 − max cosine: 0 for an embedding identical to a class, up to 2 for its opposite.
    static func outlierScore(_ r: ClassificationResult) -> Float { 1 - r.maxCosine }

    mutating func prediction(header h: SampleHeader, result r: ClassificationResult,
                             outlier: Bool, promptVersion: Int, latencySeconds: Double) -> OutgoingMessage {
        record.id = h.id
        record.stream = h.stream
        record.seq = h.seq
        record.ts = h.ts
        record.top.removeAll(keepingCapacity: true)
        for t in r.top {
            record.top.append(TopClass(className: classNames[t.index], index: t.index, p: t.probability))
        }
        record.entropy = r.entropy
        record.outlierScore = Self.outlierScore(r)
        record.outlier = outlier
        record.promptVersion = promptVersion
        record.latencySeconds = latencySeconds
        record.label = h.label
        encoder.encodePrediction(record)
        return OutgoingMessage(topic: encoder.topic, body: encoder.body, family: .pred)
    }

    mutating func error(_ r: Rejection) -> OutgoingMessage {
        encoder.encodeError(r, tsS: Date().timeIntervalSince1970)
        return OutgoingMessage(topic: encoder.topic, body: encoder.body, family: .error)
    }

    mutating func drift(_ d: DriftRecord) -> OutgoingMessage {
        encoder.encodeDrift(d)
        return OutgoingMessage(topic: encoder.topic, body: encoder.body, family: .drift)
    }

    mutating func event(_ e: EventRecord) -> OutgoingMessage {
        encoder.encodeEvent(e)
        return OutgoingMessage(topic: encoder.topic, body: encoder.body, family: .event)
    }
}

extension ProtocolSection {
    /// The decoder's limits; in embedding mode the dimension is pinned to the class embeddings'.
    func decoderLimits(embeddingDimension: Int?) -> ProtocolLimits {
        ProtocolLimits(maxHeaderBytes: maxHeaderBytes, maxPayloadBytes: maxPayloadBytes, maxImageSide: maxImageSide,
                       maxImagePixels: maxImagePixels,
                       maxEmbeddingDim: maxEmbeddingDimension, expectedEmbeddingDim: embeddingDimension)
    }

    /// The image decoder's limits: the same side and pixel bounds as the header's `shape`, so a
    /// JPEG/PNG is refused after decoding exactly when the same image sent raw would be.
    var imageDecodeLimits: ImageDecodeLimits {
        ImageDecodeLimits(maxSide: maxImageSide, maxPixels: maxImagePixels)
    }
}
