import Foundation
import Testing

@testable import ChatGateway

@Suite("Row ids", .hangLimit)
struct RowIDTests {
    @Test func rowIDsAreVersion7UUIDsAndDoNotRepeat() {
        let ids = (0..<10_000).map { _ in UUID.newRowID() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let text = id.uuidString
            // xxxxxxxx-xxxx-7xxx-[89AB]xxx-xxxxxxxxxxxx
            #expect(Array(text)[14] == "7", "\(text)")
            #expect("89AB".contains(Array(text)[19]), "\(text)")
        }
    }

    @Test func rowIDsStartWithTheirMillisecondAndSortByIt() {
        let instant = Date(timeIntervalSince1970: 1_764_120_000.123)
        let id = UUID.newRowID(now: instant)
        // 1_764_120_000_123 ms = 0x019A_BDBE_F67B
        #expect(id.uuidString.hasPrefix("019ABDBE-F67B-7"), "\(id)")
        let later = (1...50).map { UUID.newRowID(now: instant.addingTimeInterval(Double($0))) }
        #expect(later.map(\.uuidString) == later.map(\.uuidString).sorted())
        #expect(later.allSatisfy { $0.uuidString > id.uuidString })
    }

    @Test func placeholderMessageIDsKeepTheLegacyShape() {
        let ids = (0..<1_000).map { _ in ConversationStore.localMessageID() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.wholeMatch(of: /local-[0-9a-f]{12}/) != nil, "\(id)")
        }
    }

    @Test(arguments: [0, 1, 6, 8, 12, 16, 32])
    func randomHexHasTwoLowerCaseDigitsPerByte(bytes: Int) {
        let values = (0..<200).map { _ in String.randomHex(bytes: bytes) }
        #expect(values.allSatisfy { $0.wholeMatch(of: /[0-9a-f]*/) != nil && $0.count == bytes * 2 })
    }

    /// Six bytes and more: 200 draws never collide (one byte could, by chance).
    @Test(arguments: [6, 8, 12, 16, 32])
    func randomHexDoesNotRepeat(bytes: Int) {
        let values = (0..<200).map { _ in String.randomHex(bytes: bytes) }
        #expect(Set(values).count == values.count)
    }
}
