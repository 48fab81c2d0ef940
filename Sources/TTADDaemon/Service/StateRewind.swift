import Foundation
import Logging
import TTADEngine
import TTADProtocol
import TTADState

/// A daemon's stored checkpoints as a client that replays one stream in order sees them: how far
/// into the stream each one reached. `ttad eval --resume` uses it to continue a run from the
/// newest checkpoint its predictions file covers, and to make that checkpoint the one the daemon
/// restores.
///
/// Opens the state directory exactly as the daemon does (same lock, same checks), so it must run
/// while no daemon holds the directory.
public enum StateRewind {
    public struct Point: Sendable, Equatable {
        public var checkpoint: Int64
        public var samplesProcessed: Int64
        /// The last sequence number the daemon had accepted on the stream; nil when the
        /// checkpoint predates the stream's first sample.
        public var lastSeq: UInt64?

        public init(checkpoint: Int64, samplesProcessed: Int64, lastSeq: UInt64?) {
            self.checkpoint = checkpoint
            self.samplesProcessed = samplesProcessed
            self.lastSeq = lastSeq
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The stored checkpoints, newest first; empty when the directory holds no state yet.
    /// Throws when the state exists but is not usable with this configuration (the daemon would
    /// start over from fresh state, so there is nothing to continue).
    public static func points(config: DaemonConfig, stream: String, logger: Logger) throws -> [Point] {
        try withStore(config: config, logger: logger) { store in
            try store.checkpoints().map { info in
                var last: UInt64?
                if let bytes = try store.section(Checkpointer.sequenceSection, ofCheckpoint: info.id) {
                    last = try StateArchive.decodeSection(SequenceTracker.self, from: bytes).lastSeq(stream: stream)
                }
                return Point(checkpoint: info.id, samplesProcessed: info.samplesProcessed, lastSeq: last)
            }
        } ?? []
    }

    /// Deletes the checkpoints newer than `checkpoint`, so the daemon's next start continues from
    /// it. Returns how many were deleted.
    @discardableResult
    public static func rewind(config: DaemonConfig, to checkpoint: Int64, logger: Logger) throws -> Int {
        try withStore(config: config, logger: logger) { try $0.discardCheckpoints(newerThan: checkpoint) } ?? 0
    }

    private static func withStore<T>(config: DaemonConfig, logger: Logger, _ body: (StateStore) throws -> T) throws -> T? {
        let directory = config.daemon.stateDirectory
        guard FileManager.default.fileExists(atPath: directory + "/" + StateStore.databaseFileName) else { return nil }
        var options = StateStoreOptions()
        options.keepCheckpoints = config.state.keepCheckpoints
        options.creatorVersion = "ttad \(Daemon.version)"
        let (store, outcome) = try StateStore.open(directory: directory, fingerprint: try FingerprintMaker.make(config: config),
                                                   logger: logger, options: options)
        defer { try? store.close() }
        if case .movedAside(let reason, let movedTo) = outcome {
            throw Failure(description: "the state in \(directory) cannot be continued with this configuration (\(reason)); it was moved to \(movedTo)")
        }
        return try body(store)
    }
}
