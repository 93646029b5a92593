import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process's own figures, read at scrape time: memory, descriptors and CPU, as Prometheus' client libraries
/// name them. They come from `/proc/self` (Linux); elsewhere there is no reading.
enum ProcessMetrics {
    struct Reading: Sendable {
        var residentBytes: Int
        var openFileDescriptors: Int
        var maxFileDescriptors: Int
        var cpuSeconds: Double
        var startTimeSeconds: Double
    }

    /// Lists `/proc/self/fd` (names only, no descriptor of the database is opened or closed) and reads `stat`.
    static func read() -> Reading? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let fields = statFields(stat), fields.count > 21,
            let userTicks = Double(fields[11]), let systemTicks = Double(fields[12]),
            let startTicks = Double(fields[19]), let residentPages = Int(fields[21])
        else { return nil }
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return Reading(
            residentBytes: residentPages * pageSize,
            // Listing the directory holds one descriptor of its own while it reads.
            openFileDescriptors: max(0, descriptors - 1),
            maxFileDescriptors: Int(clamping: limit.rlim_cur),
            cpuSeconds: (userTicks + systemTicks) / ticksPerSecond,
            startTimeSeconds: bootTime().map { $0 + startTicks / ticksPerSecond } ?? 0)
    }

    /// The fields after the command name, which is in parentheses and may itself hold spaces; index 0 is `state`.
    static func statFields(_ stat: String) -> [Substring]? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    private static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("btime ") })
        else { return nil }
        return Double(line.dropFirst("btime ".count).trimmingCharacters(in: .whitespaces))
    }
}
