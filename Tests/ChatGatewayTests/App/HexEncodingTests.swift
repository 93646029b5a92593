import Crypto
import Testing
@testable import ChatGateway

@Suite("Hex encoding")
struct HexEncodingTests {
    @Test func twoLowerCaseDigitsPerByte() {
        #expect([UInt8]().lowercaseHex == "")
        #expect([0x00, 0x0F, 0xAB, 0xFF].lowercaseHex == "000fabff")
        #expect(SHA256.hash(data: Array("abc".utf8)).lowercaseHex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func randomHexHasTheLengthAskedFor() {
        for bytes in [0, 1, 6, 8, 9, 32] {
            let hex = String.randomHex(bytes: bytes)
            #expect(hex.count == bytes * 2)
            #expect(hex.allSatisfy { "0123456789abcdef".contains($0) })
        }
        #expect(String.randomHex(bytes: 16) != String.randomHex(bytes: 16))
    }
}
