import FakeDify
import Foundation
import Testing

@testable import ChatGateway

@Suite("Files sent with a message", .hangLimit)
struct FileUploadTests {
    @Test func anImageGoesToDifyAsTheUsersAndIsSentWithTheMessage() async throws {
        try await GatewayHarness.with(fakeOptions: PageFeaturesHarness.options()) { gateway in
            let uploaded = try await PageFeaturesHarness.upload(
                gateway, "/v1/files/upload", filename: "chart.png", contentType: "image/png", bytes: 200_000)
            #expect(uploaded.status == 201)
            #expect(uploaded.object["type"] as? String == "image")
            let fileID = try #require(uploaded.object["id"] as? String)
            #expect(await gateway.fake.store.uploads.map(\.user) == ["drillquiz_u1"])

            let file: [String: Any] = ["type": "image", "transfer_method": "local_file", "upload_file_id": fileID]
            let reply = try await PageFeaturesHarness.chat(gateway, ["message": "What is this?", "files": [file]])
            #expect(reply.status == 200)
            let sent =
                try JSONSerialization.jsonObject(
                    with: Data(try #require(await gateway.fake.store.lastChatRequestBody).utf8)) as? [String: Any]
            let files = try #require(sent?["files"] as? [[String: Any]])
            #expect(files.count == 1 && files[0]["upload_file_id"] as? String == fileID)
            // The question keeps its files, for the history and for a regenerate.
            let question = try #require(try await gateway.messages(system: "drillquiz", user: "u1").first)
            #expect(question.files?.contains(fileID) == true)
            let rows = try await PageFeaturesHarness.messages(
                gateway, conversation: reply.object["conversation_id"] as! String)
            #expect((rows.first?["files"] as? [[String: Any]])?.first?["type"] as? String == "image")
        }
    }

    @Test func whatTheAppDoesNotTakeIsRefusedBeforeDifySeesIt() async throws {
        // A 1 MB image limit: a debug build scans megabytes slowly, and many tests run at once.
        try await GatewayHarness.with(fakeOptions: PageFeaturesHarness.options { $0.imageFileSizeLimitMB = 1 }) {
            gateway in
            let large = try await PageFeaturesHarness.upload(
                gateway, "/v1/files/upload", filename: "huge.png", contentType: "image/png", bytes: 1_048_577
            )
            #expect(large.status == 413)
            #expect(large.detail == "The file is larger than the limit of 1 MB.")
            let program = try await PageFeaturesHarness.upload(
                gateway, "/v1/files/upload", filename: "setup.exe", contentType: "application/octet-stream",
                bytes: 10)
            #expect(program.status == 415)
            #expect(await gateway.fake.store.uploads.isEmpty)

            let file: [String: Any] = [
                "type": "image", "transfer_method": "local_file", "upload_file_id": UUID().uuidString,
            ]
            let tooMany = try await PageFeaturesHarness.chat(gateway, ["message": "hi", "files": [file, file, file]])
            #expect(tooMany.status == 413)
            #expect(tooMany.detail == "At most 2 files can be sent with a message.")
            let video = try await PageFeaturesHarness.chat(
                gateway,
                [
                    "message": "hi",
                    "files": [["type": "video", "transfer_method": "remote_url", "url": "https://x.example/a.mp4"]],
                ])
            #expect(video.status == 422)
            let script = try await PageFeaturesHarness.chat(
                gateway,
                [
                    "message": "hi",
                    "files": [["type": "image", "transfer_method": "remote_url", "url": "javascript:alert(1)"]],
                ])
            #expect(script.status == 422)
            let inside = try await PageFeaturesHarness.chat(
                gateway,
                [
                    "message": "hi",
                    "files": [
                        ["type": "image", "transfer_method": "remote_url", "url": "http://169.254.169.254/x.png"]
                    ],
                ])
            #expect(inside.status == 422)
            #expect(inside.detail == "files: url must name a public host that resolves")
            #expect(await gateway.fake.store.chatRequestCount == 0)
        }
    }

    @Test func anAppWithoutUploadsTakesNoFiles() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await PageFeaturesHarness.upload(
                gateway, "/v1/files/upload", filename: "a.png", contentType: "image/png", bytes: 10)
            #expect(reply.status == 400)
            #expect(reply.detail == "This assistant does not take files.")
        }
    }

    @Test func uploadsAreLimitedPerUser() async throws {
        try await GatewayHarness.with(
            fakeOptions: PageFeaturesHarness.options(), adjust: { $0.rateLimitMedia = RateLimit(count: 1, period: 60) }
        ) { gateway in
            let first = try await PageFeaturesHarness.upload(
                gateway, "/v1/files/upload", filename: "a.png", contentType: "image/png", bytes: 10)
            #expect(first.status == 201)
            let second = try await PageFeaturesHarness.upload(
                gateway, "/v1/files/upload", filename: "b.png", contentType: "image/png", bytes: 10)
            #expect(second.status == 429)
            #expect(second.headers.first(name: "Retry-After") != nil)
            let other = try await PageFeaturesHarness.upload(
                gateway, "/v1/files/upload", filename: "c.png", contentType: "image/png", bytes: 10, user: "u2")
            #expect(other.status == 201)
        }
    }
}
