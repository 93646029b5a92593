import AsyncHTTPClient
import FakeDify
import Foundation
import NIOCore
import Testing

@testable import ChatGateway

/// `POST /dify/v1/files/upload` rewrites the form's `user` while the body streams: whatever the chunks and bytes,
/// the file reaches Dify unchanged, and a body that is no form is refused without harm to the gateway.
@Suite("Dify API: uploads", .hangLimit)
struct DifyAPIUploadTests {
    static let boundary = "dify-api-test-boundary"

    /// The body sent in chunks of `chunkSize` bytes, so parts and boundaries straddle chunks.
    static func upload(
        _ gateway: GatewayHarness, body: Data, chunkSize: Int = 7
    ) async throws -> GatewayHarness.Reply {
        var request = HTTPClientRequest(url: gateway.baseURL + "/dify/v1/files/upload")
        request.method = .POST
        for (name, value) in DifyAPIHarness.bearer(DifyAPIHarness.drillquizKey) {
            request.headers.add(name: name, value: value)
        }
        request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        let chunks = stride(from: 0, to: body.count, by: chunkSize).map {
            ByteBuffer(data: body[$0..<min($0 + chunkSize, body.count)])
        }
        let stream = AsyncStream<ByteBuffer> { continuation in
            for chunk in chunks { continuation.yield(chunk) }
            continuation.finish()
        }
        request.body = .stream(stream, length: .unknown)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1024 * 1024)
        return GatewayHarness.Reply(
            status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
    }

    static func part(_ disposition: String, type: String? = nil, _ content: Data) -> Data {
        var part = Data("--\(boundary)\r\nContent-Disposition: \(disposition)\r\n".utf8)
        if let type { part += Data("Content-Type: \(type)\r\n".utf8) }
        return part + Data("\r\n".utf8) + content + Data("\r\n".utf8)
    }

    static var end: Data { Data("--\(boundary)--\r\n".utf8) }

    @Test func theFileArrivesWholeWithTheGatewaysUserWhateverTheChunks() async throws {
        try await DifyAPIHarness.with { gateway in
            // Bytes that look like the start of a boundary, a lone CR, and every byte value.
            let content =
                Data("line\r\n--dify-api-test-bounda\r\n-\r".utf8) + Data((0...255).map(UInt8.init))
                + Data("\r\n--".utf8)
            for chunkSize in [1, 7, 64, 100_000] {
                let body =
                    Data("preamble to ignore\r\n".utf8)
                    + Self.part(#"form-data; name="file"; filename="노트.bin""#, type: "text/plain", content)
                    + Self.part(#"form-data; name="user""#, Data("u1".utf8)) + Self.end
                let reply = try await Self.upload(gateway, body: body, chunkSize: chunkSize)
                #expect(reply.status == 201, "chunks of \(chunkSize): \(reply.text)")
                #expect(reply.object["name"] as? String == "노트.bin")
                #expect(reply.object["size"] as? Int == content.count, "chunks of \(chunkSize)")
            }
            let uploads = await gateway.fake.store.uploads
            #expect(uploads.count == 4 && uploads.allSatisfy { $0.user == "drillquiz_u1" })
        }
    }

    @Test func aUserNamingAnotherIsStillTheCallersOwn() async throws {
        try await DifyAPIHarness.with { gateway in
            let body =
                Self.part(#"form-data; name="user""#, Data("cointutor_carol".utf8))
                + Self.part(#"form-data; name="file"; filename="a.txt""#, type: "text/plain", Data("x".utf8))
                + Self.end
            let reply = try await Self.upload(gateway, body: body)
            #expect(reply.status == 201, "\(reply.text)")
            #expect(await gateway.fake.store.uploads.map(\.user) == ["drillquiz_cointutor_carol"])
        }
    }

    @Test func aSecondUserFieldOrOneWerkzeugMightReadOtherwiseIsRefused() async throws {
        try await DifyAPIHarness.with { gateway in
            let file = Self.part(#"form-data; name="file"; filename="a.txt""#, type: "text/plain", Data("x".utf8))
            let forms = [
                Self.part(#"form-data; name="user""#, Data("u1".utf8))
                    + Self.part(#"form-data; name="user""#, Data("cointutor_bob".utf8)) + file,
                Self.part(#"form-data; name*=UTF-8''user"#, Data("cointutor_bob".utf8)) + file,
                Data(
                    "--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nx\r\n"
                        .utf8) + file,
            ]
            for form in forms {
                let reply = try await Self.upload(gateway, body: form + Self.end)
                #expect(reply.status == 400, "\(reply.text)")
            }
            // A parameter name in capitals is still the user field, and rewritten.
            let capitals = Self.part(#"form-data; NAME="user""#, Data("u1".utf8)) + file + Self.end
            #expect(try await Self.upload(gateway, body: capitals).status == 201)
            #expect(await gateway.fake.store.uploads.map(\.user) == ["drillquiz_u1"])
        }
    }

    @Test func refusedUploadsAreTheCallersFaultNotDifyBeingDown() async throws {
        try await DifyAPIHarness.with(adjust: {
            $0.difyCircuitFailures = 2
            $0.maxUploadBytes = 2048
        }) { gateway in
            let tooLarge =
                Self.part(#"form-data; name="file"; filename="a.txt""#, type: "text/plain", Data(count: 4096))
                + Self.end
            for body in Self.noForms + [tooLarge] {
                let reply = try await Self.upload(gateway, body: body)
                #expect([400, 413].contains(reply.status), "\(reply.text)")
            }
            // The breaker stayed shut: the next calls reach Dify.
            #expect(try await DifyAPIHarness.chat(gateway).status == 200)
            let fine = Self.part(#"form-data; name="file"; filename="a.txt""#, type: "text/plain", Data("x".utf8))
            #expect(try await Self.upload(gateway, body: fine + Self.end).status == 201)
        }
    }

    /// Bodies that are no form, as raw bytes.
    static var noForms: [Data] {
        let open: [UInt8] = Array("--\(boundary)\r\n".utf8)
        let close: [UInt8] = Array("--\(boundary)--\r\n".utf8)
        let rest: [UInt8] = Array(": x\r\n\r\nbody\r\n".utf8) + close
        let bodies: [[UInt8]] = [
            // A non-ASCII byte where a header name goes (MultipartKit's parser traps on it).
            open + [0xC2, 0x92, 0x79, 0x22] + close,
            open + [0xFF] + rest,
            // A header line without a name, one without a colon, a body that never ends, no boundary at all.
            open + Array(": value\r\n\r\nbody\r\n".utf8) + close,
            open + Array("no colon here\r\n\r\nbody\r\n".utf8) + close,
            open + Array("Content-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nbody".utf8),
            Array("no form at all".utf8),
        ]
        return bodies.map { Data($0) }
    }

    @Test(arguments: noForms)
    func aBodyThatIsNoFormIsDifysNoFileAndTheGatewayCarriesOn(body: Data) async throws {
        try await DifyAPIHarness.with { gateway in
            let reply = try await Self.upload(gateway, body: body)
            #expect(DifyAPIHarness.isDifyError(reply, status: 400, code: "no_file_uploaded"), "\(reply.text)")
            #expect(await gateway.fake.store.uploads.isEmpty)
            #expect(try await DifyAPIHarness.chat(gateway).status == 200)
        }
    }
}
