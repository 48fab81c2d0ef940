/// Identity of the model and configuration that the durable state belongs to.
///
/// Adapted prompts, optimizer moments and the memory bank are only meaningful for the exact model
/// and adaptation settings that produced them: resuming them under another model would feed
/// tensors of the wrong geometry (or, worse, the right geometry with the wrong meaning) into the
/// adapter. The store therefore records this fingerprint when the database is created and compares
/// it on every open. All fields are plain strings computed by the caller; the store never hashes
/// anything itself.
///
/// What a mismatch of each field means:
/// - ``modelID`` — a *different model* (name / architecture tag) is configured. The old state is
///   foreign to it.
/// - ``modelSHA256`` — the *same model name but different weights* (re-exported, fine-tuned,
///   swapped file). Prompts adapted against the old weights are stale.
/// - ``configSHA256`` — the *adaptation-relevant configuration* changed (e.g. prompt length,
///   class list, optimizer kind). The caller decides which config keys go into this hash; keys
///   that do not affect the meaning of stored state (log level, ports, metrics) should be left
///   out so that editing them does not discard state.
///
/// What happens on a mismatch is chosen by ``FingerprintMismatchPolicy`` (default: the database is
/// treated as foreign and moved aside).
public struct StateFingerprint: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Model name / architecture tag, e.g. `"clip-vit-b32"`.
    public var modelID: String
    /// Hex SHA-256 of the model weights file(s).
    public var modelSHA256: String
    /// Hex SHA-256 of the canonicalised, state-relevant part of the configuration.
    public var configSHA256: String

    public init(modelID: String, modelSHA256: String, configSHA256: String) {
        self.modelID = modelID
        self.modelSHA256 = modelSHA256
        self.configSHA256 = configSHA256
    }

    /// A field of the fingerprint, named as its column in the `meta` table.
    public enum Field: String, Sendable, CaseIterable {
        case modelID = "model_id"
        case modelSHA256 = "model_sha256"
        case configSHA256 = "config_sha256"

        /// True for the fields that identify the model itself (as opposed to its configuration).
        public var isModelField: Bool { self != .configSHA256 }
    }

    /// The fields whose values differ between `self` and `other`, in declaration order.
    public func differingFields(from other: StateFingerprint) -> [Field] {
        var fields: [Field] = []
        if modelID != other.modelID { fields.append(.modelID) }
        if modelSHA256 != other.modelSHA256 { fields.append(.modelSHA256) }
        if configSHA256 != other.configSHA256 { fields.append(.configSHA256) }
        return fields
    }

    /// The value of one field.
    public subscript(field: Field) -> String {
        switch field {
        case .modelID: modelID
        case .modelSHA256: modelSHA256
        case .configSHA256: configSHA256
        }
    }

    public var description: String {
        "model_id=\(modelID) model_sha256=\(Self.abbreviate(modelSHA256)) config_sha256=\(Self.abbreviate(configSHA256))"
    }

    /// Shortens long hashes for log lines; full values stay in the database.
    static func abbreviate(_ s: String) -> String {
        s.count > 16 ? String(s.prefix(12)) + "…" : s
    }
}

/// What ``StateStore/open(directory:fingerprint:logger:options:)`` does when the stored fingerprint
/// differs from the one the daemon is running with.
public enum FingerprintMismatchPolicy: Sendable, Equatable {
    /// Default. Any differing field makes the database foreign: it is moved aside (kept for
    /// inspection, never deleted) and fresh state is created. Safe: adapted prompts never cross a
    /// model or config change.
    case moveAside
    /// A differing ``StateFingerprint/modelID`` or ``StateFingerprint/modelSHA256`` moves the
    /// database aside; a differing ``StateFingerprint/configSHA256`` alone is adopted (the stored
    /// fingerprint is updated and a `fingerprint_adopted` event is logged). For deployments that
    /// tweak adaptation settings but want to keep the learned state.
    case moveAsideIfModelChanged
    /// Keep the state whatever changed; update the stored fingerprint and log a warning plus a
    /// `fingerprint_adopted` event. Only for operators who know the state is still valid.
    case adopt
}
