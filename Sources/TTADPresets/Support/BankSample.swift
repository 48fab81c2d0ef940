import Foundation

/// An encoded sample kept in the memory bank: an item costs its message payload (a few KB), not
/// 600 KB of preprocessed floats, in the bank and in checkpoints. Replay decodes it once and then
/// keeps its patch embeddings (`ImageAdapter.step`; 18.8 KB on the bundled model).
public struct BankSample: Codable, Equatable, Sendable {
    public var encoding: String
    /// [H, W, C] for raw-u8-hwc; nil for JPEG/PNG.
    public var shape: [Int]?
    public var bytes: Data

    public init(encoding: String, shape: [Int]?, bytes: Data) {
        self.encoding = encoding
        self.shape = shape
        self.bytes = bytes
    }
}
