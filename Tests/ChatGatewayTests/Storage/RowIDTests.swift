import Foundation
import Testing
@testable import ChatGateway

@Suite("Row ids")
struct RowIDTests {
    @Test func rowIDsAreVersion4UUIDsAndDoNotRepeat() {
        let ids = (0..<10_000).map { _ in UUID.newRowID() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let text = id.uuidString
            // xxxxxxxx-xxxx-4xxx-[89AB]xxx-xxxxxxxxxxxx
            #expect(Array(text)[14] == "4", "\(text)")
            #expect("89AB".contains(Array(text)[19]), "\(text)")
        }
    }

    @Test func placeholderMessageIDsKeepTheLegacyShape() {
        let ids = (0..<1_000).map { _ in ConversationStore.localMessageID() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.wholeMatch(of: /local-[0-9a-f]{12}/) != nil, "\(id)")
        }
    }
}
