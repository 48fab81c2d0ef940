import Foundation

/// Everything needed to resume adaptation after a restart, written atomically by
/// ``StateStore/writeCheckpoint(_:reason:)``.
///
/// The store does not interpret the sections: each subsystem serialises its own state (sequence
/// numbers, counters, optimizer moments, memory bank, detectors, …) into a named opaque blob. That
/// keeps this module free of dependencies on the engine and lets each subsystem version its own
/// format. Prompt tensors get first-class treatment (``PromptSnapshot``) because they are
/// versioned, kept for longer than checkpoints, and useful to inspect or roll back on their own.
public struct Checkpoint: Sendable {
    /// Samples processed since the state was created.
    public var samplesProcessed: Int64
    /// Version of the prompts in effect at this checkpoint.
    public var promptVersion: Int64
    /// Named opaque blobs, e.g. `"sequence"`, `"counters"`, `"prompts"`, `"optimizer"`,
    /// `"memory_bank"`, `"detectors"`. Names must be non-empty.
    public var sections: [String: [UInt8]]
    /// The prompt tensors, if they changed since the last stored snapshot. When nil and a snapshot
    /// of ``promptVersion`` is already stored, the checkpoint references that snapshot instead,
    /// so unchanged prompts are not rewritten on every checkpoint.
    public var promptSnapshot: PromptSnapshot?

    public init(
        samplesProcessed: Int64,
        promptVersion: Int64,
        sections: [String: [UInt8]] = [:],
        promptSnapshot: PromptSnapshot? = nil
    ) {
        self.samplesProcessed = samplesProcessed
        self.promptVersion = promptVersion
        self.sections = sections
        self.promptSnapshot = promptSnapshot
    }
}

/// One version of the learnable prompt tensors.
///
/// Stored per tensor as a little-endian float32 blob plus its shape (see ``FloatBlob``), so a
/// restore is bitwise identical. Writing a version that is already stored replaces it.
public struct PromptSnapshot: Sendable {
    /// Monotonic prompt version (chosen by the adapter).
    public var version: Int64
    /// Tensor name → row-major elements.
    public var tensors: [String: [Float]]
    /// Tensor name → shape. Must have the same keys as ``tensors``; the product of the dimensions
    /// must equal the element count.
    public var shapes: [String: [Int]]

    public init(version: Int64, tensors: [String: [Float]], shapes: [String: [Int]]) {
        self.version = version
        self.tensors = tensors
        self.shapes = shapes
    }

    /// True when both snapshots have the same version, names, shapes and float *bit patterns*
    /// (so `-0.0 != 0.0` and equal NaN payloads compare equal, unlike `==` on `Float`).
    public func isBitwiseEqual(to other: PromptSnapshot) -> Bool {
        guard version == other.version, shapes == other.shapes,
              tensors.keys.sorted() == other.tensors.keys.sorted() else { return false }
        for (name, values) in tensors {
            guard let theirs = other.tensors[name], theirs.count == values.count else { return false }
            for i in values.indices where values[i].bitPattern != theirs[i].bitPattern {
                return false
            }
        }
        return true
    }

    /// Checks names, shapes and element counts. Throws ``StateStoreError/invalidCheckpoint(_:)``.
    func validate() throws {
        guard Set(tensors.keys) == Set(shapes.keys) else {
            let missing = Set(tensors.keys).symmetricDifference(shapes.keys).sorted()
            throw StateStoreError.invalidCheckpoint(
                "prompt snapshot v\(version): tensors and shapes name different tensors: \(missing)")
        }
        for (name, values) in tensors {
            guard !name.isEmpty else {
                throw StateStoreError.invalidCheckpoint("prompt snapshot v\(version): empty tensor name")
            }
            let shape = shapes[name] ?? []
            var product = 1
            for dim in shape {
                let (p, overflow) = product.multipliedReportingOverflow(by: dim)
                guard dim >= 0, !overflow else {
                    throw StateStoreError.invalidCheckpoint(
                        "prompt snapshot v\(version): tensor '\(name)' has invalid shape \(shape)")
                }
                product = p
            }
            guard product == values.count else {
                throw StateStoreError.invalidCheckpoint(
                    "prompt snapshot v\(version): tensor '\(name)' has shape \(shape) (\(product) elements) but \(values.count) values")
            }
        }
    }
}

/// Summary of a stored checkpoint (no blobs).
public struct CheckpointInfo: Sendable, Equatable {
    /// Row id; strictly increasing over the life of the database (never reused after pruning).
    public var id: Int64
    /// Commit time, millisecond precision.
    public var createdAt: Date
    public var samplesProcessed: Int64
    public var promptVersion: Int64
    /// Free text given by the caller (`"periodic"`, `"shutdown"`, …).
    public var reason: String
    /// Payload bytes written by this checkpoint: all section blobs plus the prompt tensor blobs it
    /// stored (0 for a snapshot it merely referenced).
    public var bytes: Int

    public init(id: Int64, createdAt: Date, samplesProcessed: Int64, promptVersion: Int64, reason: String, bytes: Int) {
        self.id = id
        self.createdAt = createdAt
        self.samplesProcessed = samplesProcessed
        self.promptVersion = promptVersion
        self.reason = reason
        self.bytes = bytes
    }
}
