import Foundation

/// The first 100 bytes of an SQLite database file, parsed without SQLite.
///
/// Why parse by hand: opening a file with SQLite is not free of side effects — it rolls back (and
/// deletes) a hot `-journal`, replays and later checkpoints a `-wal`. For files that are plainly
/// not ours (not SQLite at all, another application's id, cut short) the header alone is enough
/// to decide, so those are moved aside byte-for-byte as found, companions included.
///
/// Layout reference: <https://www.sqlite.org/fileformat2.html#the_database_header>.
struct SQLiteHeader: Sendable {
    static let magic: [UInt8] = Array("SQLite format 3".utf8) + [0]
    static let size = 100

    /// Page size in bytes (the stored value 1 means 65536).
    let pageSize: Int
    /// Page count, if the stored value is valid (its "version-valid-for" matches the change counter).
    let pageCount: Int?
    /// `PRAGMA application_id`.
    let applicationID: Int32

    /// Parses `bytes` (at least 100). Returns nil if the magic string is missing.
    init?(_ bytes: [UInt8]) {
        guard bytes.count >= Self.size, Array(bytes[0..<16]) == Self.magic else { return nil }
        func u32(_ o: Int) -> UInt32 {
            UInt32(bytes[o]) << 24 | UInt32(bytes[o + 1]) << 16 | UInt32(bytes[o + 2]) << 8 | UInt32(bytes[o + 3])
        }
        let rawPageSize = Int(bytes[16]) << 8 | Int(bytes[17])
        pageSize = rawPageSize == 1 ? 65536 : rawPageSize
        let changeCounter = u32(24)
        let count = u32(28)
        pageCount = (count > 0 && u32(92) == changeCounter) ? Int(count) : nil
        applicationID = Int32(bitPattern: u32(68))
    }

    /// Reads the header of the file at `path` (nil if shorter than 100 bytes or not readable).
    static func read(_ path: String) -> [UInt8]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: size) else { return nil }
        return [UInt8](data)
    }

    /// Page sizes SQLite can produce: powers of two from 512 to 65536.
    var hasValidPageSize: Bool { pageSize >= 512 && pageSize <= 65536 && pageSize & (pageSize - 1) == 0 }
}
