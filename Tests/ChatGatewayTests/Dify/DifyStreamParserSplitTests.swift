import Dispatch
import Testing

@testable import ChatGateway

/// Runs CPU-heavy checks on Dispatch's threads. On the cooperative pool (two threads here) they would
/// starve every concurrently running network test for tens of seconds; on their own threads the kernel
/// shares the cores fairly. Expectations are checked by the caller, on the test's own task.
func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: work()) }
    }
}

/// However the network cuts a stream into reads, the events are the same as for the stream fed whole.
@Suite("DifyStreamParser chunking", .hangLimit)
struct DifyStreamParserSplitTests {
    typealias F = DifyStreamFixtures

    /// Runs `check` for every first cut `i` (the 3-chunk loops are quadratic), collecting failures.
    private func forEachFirstCut(
        _ count: Int, _ check: @escaping @Sendable (Int) -> [String]
    ) async -> [String] {
        await offCooperativePool {
            (0...count).flatMap(check).sorted()
        }
    }

    /// The cuts (0...count) for which parsing `wire` in two reads differs from `expected`.
    private func failingTwoChunkCuts(_ wire: [UInt8], _ expected: [DifyStreamEvent]) async -> [Int] {
        await offCooperativePool {
            (0...wire.count).filter { F.parse(wire, cuts: [$0]) != expected }
        }
    }

    @Test(arguments: F.LineEnding.allCases)
    func realisticChatStreamEveryTwoChunkSplit(_ ending: F.LineEnding) async {
        let wire = F.bytes(F.chatStream, ending)
        #expect(F.parseWhole(wire) == F.chatEvents)
        let failures = await failingTwoChunkCuts(wire, F.chatEvents)
        #expect(failures.isEmpty, "\(ending) failing cuts: \(failures.prefix(20))")
    }

    @Test(arguments: F.LineEnding.allCases)
    func realisticChatStreamByteByByte(_ ending: F.LineEnding) {
        #expect(F.parseByteByByte(F.bytes(F.chatStream, ending)) == F.chatEvents)
    }

    /// The realistic stream is about 1.5 KB, so its 3-chunk splits are sampled: every first cut with a
    /// second cut every 23 bytes after it, plus every second cut within 8 bytes of the first. (The ~400-byte
    /// compact stream below gets every pair.)
    @Test(arguments: F.LineEnding.allCases)
    func realisticChatStreamSampledThreeChunkSplits(_ ending: F.LineEnding) async {
        let wire = F.bytes(F.chatStream, ending)
        let failures = await forEachFirstCut(wire.count) { i in
            var failures: [String] = []
            let near = i...min(i + 8, wire.count)
            let far = Set(stride(from: i, through: wire.count, by: 23)).subtracting(near)
            for j in Array(near) + far.sorted() where F.parse(wire, cuts: [i, j]) != F.chatEvents {
                failures.append("cuts \(i), \(j)")
            }
            return failures
        }
        #expect(failures.isEmpty, "\(ending): \(failures.prefix(10)) (\(failures.count) failing splits)")
    }

    @Test func compactStreamIsSmallEnoughForEveryThreeChunkSplit() {
        for ending in F.LineEnding.allCases {
            #expect(F.bytes(F.compactStream, ending).count <= 420)
        }
        #expect(F.parseWhole(F.bytes(F.compactStream)) == F.compactEvents)
    }

    @Test(arguments: F.LineEnding.allCases)
    func compactStreamEveryThreeChunkSplit(_ ending: F.LineEnding) async {
        let wire = F.bytes(F.compactStream, ending)
        let failures = await forEachFirstCut(wire.count) { i in
            var failures: [String] = []
            for j in i...wire.count where F.parse(wire, cuts: [i, j]) != F.compactEvents {
                failures.append("cuts \(i), \(j)")
            }
            return failures
        }
        #expect(failures.isEmpty, "\(ending): \(failures.prefix(10)) (\(failures.count) failing splits)")
    }

    @Test(arguments: F.LineEnding.allCases)
    func compactStreamEveryTwoChunkSplitAndByteByByte(_ ending: F.LineEnding) async {
        let wire = F.bytes(F.compactStream, ending)
        let failures = await failingTwoChunkCuts(wire, F.compactEvents)
        #expect(failures.isEmpty, "\(ending) failing cuts: \(failures.prefix(20))")
        #expect(F.parseByteByByte(wire) == F.compactEvents)
    }

    @Test func docWireExampleEveryTwoChunkSplit() {
        let wire = F.bytes(F.docWireExample)
        for cut in 0...wire.count {
            #expect(F.parse(wire, cuts: [cut]) == F.docWireEvents, "cut at \(cut)")
        }
        #expect(F.parseByteByByte(wire) == F.docWireEvents)
    }

    /// Every cut between a `\r` and the `\n` after it, in streams with CRLF endings.
    @Test func everyCRLFPairSplitAcrossReads() {
        for source in [F.chatStream, F.compactStream, F.docWireExample] {
            let wire = F.bytes(source, .crlf)
            let expected = F.parseWhole(F.bytes(source))
            let pairs = wire.indices.dropLast().filter { wire[$0] == 0x0D && wire[$0 + 1] == 0x0A }
            #expect(pairs.count >= 8)
            // One cut inside one pair, and every pair cut at once.
            for index in pairs { #expect(F.parse(wire, cuts: [index + 1]) == expected) }
            #expect(F.parse(wire, cuts: pairs.map { $0 + 1 }) == expected)
        }
    }

    @Test func longStreamWithEveryKindOfEventByteByByte() {
        #expect(F.parseByteByByte(F.allKindsStream) == F.allKindsEvents)
    }

    @Test func longStreamWithEveryKindOfEventEveryTwoChunkSplit() async {
        let failures = await failingTwoChunkCuts(F.allKindsStream, F.allKindsEvents)
        #expect(failures.isEmpty, "failing cuts: \(failures.prefix(20))")
    }

    /// 500 random chunkings (seeded, so reproducible): tiny reads, large reads, empty reads, all mixed.
    @Test func fiveHundredRandomChunkingsOfTheLongStream() async {
        let wire = F.allKindsStream
        #expect(wire.count > 4_000)
        let failure = await offCooperativePool { Self.firstFailingRandomChunking(wire) }
        #expect(failure == nil, "\(failure ?? "")")
    }

    /// Describes the first of 500 seeded random chunkings that parses differently, or nil.
    private static func firstFailingRandomChunking(_ wire: [UInt8]) -> String? {
        var random = SplitMix64(seed: 0x5EED_D1F7)
        for round in 0..<500 {
            var cuts: [Int] = []
            var position = 0
            // Each round draws its own typical read size, so some rounds are byte-sized and some are large.
            let typical = [1, 2, 3, 5, 16, 64, 300, 2_000][Int.random(in: 0..<8, using: &random)]
            while position < wire.count {
                let step: Int
                switch Int.random(in: 0..<10, using: &random) {
                case 0: step = 0  // an empty read
                case 1: step = Int.random(in: 1...4, using: &random)
                default: step = Int.random(in: 1...typical, using: &random)
                }
                position = min(wire.count, position + step)
                cuts.append(position)
            }
            if F.parse(wire, cuts: cuts) != F.allKindsEvents { return "round \(round), cuts \(cuts)" }
        }
        return nil
    }

    /// The same random chunkings, with the parser reused across streams (`finish()` resets it).
    @Test func oneParserReusedForManyStreams() {
        var random = SplitMix64(seed: 42)
        var parser = DifyStreamParser()
        let streams: [([UInt8], [DifyStreamEvent])] = [
            (F.bytes(F.chatStream, .crlf), F.chatEvents),
            ([0xEF, 0xBB, 0xBF] + F.bytes(F.compactStream, .cr), F.compactEvents),
            (F.allKindsStream, F.allKindsEvents),
            (F.bytes(F.docWireExample), F.docWireEvents),
        ]
        for round in 0..<40 {
            let (wire, expected) = streams[round % streams.count]
            var events: [DifyStreamEvent] = []
            var start = 0
            while start < wire.count {
                let end = min(wire.count, start + Int.random(in: 1...50, using: &random))
                events += parser.feed(wire[start..<end])
                start = end
            }
            events += parser.finish()
            #expect(events == expected, "round \(round)")
        }
    }
}
