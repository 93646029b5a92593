import Foundation

/// Reads how much of a WAL-mode database's log waits to be copied into the database file, from the header of
/// its WAL index (the `-shm` file next to it), without taking any lock or starting a checkpoint.
///
/// The layout is SQLite's documented file format (https://sqlite.org/walformat.html, "The WAL-Index Header"):
/// `mxFrame`, the last valid frame of the log, is the 32-bit word at byte 16 of the first header copy, and
/// `nBackfill`, the frames already copied back, the word at byte 96 (the checkpoint info after the two 48-byte
/// header copies); both in the machine's own byte order. A read can race a commit and be one commit old,
/// which is fine for deciding when to checkpoint.
struct SQLiteWALIndex: Sendable {
    let path: String

    init(databasePath: String) { path = databasePath + "-shm" }

    /// Frames (pages) in the log not yet copied into the database; nil when there is no index to read.
    func pagesWaiting() -> Int? {
        guard let file = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? file.close() }
        guard let header = try? file.read(upToCount: 100), header.count == 100 else { return nil }
        let (lastFrame, backfilled) = header.withUnsafeBytes { bytes in
            (bytes.loadUnaligned(fromByteOffset: 16, as: UInt32.self), bytes.loadUnaligned(fromByteOffset: 96, as: UInt32.self))
        }
        return lastFrame >= backfilled ? Int(lastFrame - backfilled) : 0
    }
}
