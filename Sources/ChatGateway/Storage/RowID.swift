import Foundation

extension UUID {
    /// A random (version 4) UUID for a new row, from two draws of the system's generator (`getrandom`).
    ///
    /// Why not `UUID()`: on Linux, Foundation's opens, reads and closes `/dev/urandom` on every call, three
    /// system calls and a file descriptor per row; a chat writes four rows and a history sync millions.
    static func newRowID() -> UUID {
        var generator = SystemRandomNumberGenerator()
        var words = (generator.next() as UInt64, generator.next() as UInt64)
        return withUnsafeMutableBytes(of: &words) { bytes in
            bytes[6] = (bytes[6] & 0x0F) | 0x40 // version 4: random
            bytes[8] = (bytes[8] & 0x3F) | 0x80 // variant: RFC 9562
            return UUID(uuid: bytes.load(as: uuid_t.self))
        }
    }
}
