import Crypto
import Testing

@testable import ChatGateway

/// `lowercaseHex`; `String.randomHex` is tested with the other random ids, in `Storage/RowIDTests`.
@Suite("Hex encoding", .hangLimit)
struct HexEncodingTests {
    @Test func twoLowerCaseDigitsPerByte() {
        #expect([UInt8]().lowercaseHex == "")
        #expect([0x00, 0x0F, 0xAB, 0xFF].lowercaseHex == "000fabff")
        #expect(
            SHA256.hash(data: Array("abc".utf8)).lowercaseHex
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
