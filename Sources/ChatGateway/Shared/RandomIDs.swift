import Foundation

extension UUID {
    /// A new row's id: a time-ordered UUID (version 7, RFC 9562), the current Unix time in milliseconds followed by
    /// 74 random bits from two draws of the system's generator (`getrandom`).
    ///
    /// Why time-ordered: every table's primary-key index is a B-tree, and a batch of random keys lands on as many
    /// different leaf pages, each rewritten to SQLite's WAL at commit; ids that grow with time land on the last
    /// page or two. Why not `UUID()`: on Linux, Foundation's opens, reads and closes `/dev/urandom` on every call,
    /// three system calls and a file descriptor per row; a chat writes four rows and a history sync millions.
    static func newRowID(now: Date = Date()) -> UUID {
        var generator = SystemRandomNumberGenerator()
        let milliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        var words = ((milliseconds << 16).bigEndian, generator.next() as UInt64)
        return withUnsafeMutableBytes(of: &words) { bytes in
            let random = generator.next() as UInt16
            bytes[6] = 0x70 | UInt8(truncatingIfNeeded: random >> 8) & 0x0F  // version 7
            bytes[7] = UInt8(truncatingIfNeeded: random)
            bytes[8] = (bytes[8] & 0x3F) | 0x80  // variant: RFC 9562
            return UUID(uuid: bytes.load(as: uuid_t.self))
        }
    }
}

extension String {
    /// `bytes` random bytes from the system's generator, as lower-case hex: secrets, keys and placeholder ids.
    /// Drawn eight bytes at a time, since each draw is a `getrandom` system call (a placeholder id is made per chat).
    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var drawn: [UInt8] = []
        drawn.reserveCapacity(bytes + 8)
        while drawn.count < bytes {
            withUnsafeBytes(of: generator.next() as UInt64) { drawn.append(contentsOf: $0) }
        }
        return drawn.prefix(bytes).lowercaseHex
    }
}
