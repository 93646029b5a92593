import Foundation
import NIOCore
import Testing

@testable import ChatGateway

/// `DifyWire`: what `/dify/v1` writes, as Dify writes it, with the client's own user.
@Suite("Dify API: the wire")
struct DifyWireTests {
    @Test func aChatflowEventNamesTheClientsUserNotTheGatewaysOne() throws {
        let raw =
            #"{"event":"workflow_finished","task_id":"t","workflow_run_id":"wr","data":{"status":"succeeded","#
            + #""created_by":{"id":"e1","user":"drillquiz_u1"},"outputs":{"note":"drillquiz_u1 said hi"}}}"#
        let event = DifyStreamEvent(decodingData: Array(raw.utf8))
        let forClient = DifyWire.withClientUser(event, difyUser: "drillquiz_u1", user: "u1")
        var buffer = ByteBuffer()
        DifyWire.write(forClient, into: &buffer)
        let line = String(buffer: buffer)
        #expect(line.hasPrefix("data: ") && line.hasSuffix("\n\n"))
        let written = try JSONDecoder().decode(JSONValue.self, from: Data(line.dropFirst(6).utf8))
        let data = written.objectValue?["data"]?.objectValue
        #expect(data?["created_by"]?.objectValue?["user"] == .string("u1"))
        // Only a whole value that is the user is the user; free text stays as Dify wrote it.
        #expect(data?["outputs"]?.objectValue?["note"] == .string("drillquiz_u1 said hi"))
        #expect(written.objectValue?["workflow_run_id"] == .string("wr"))
    }

    @Test(
        arguments: [
            (#"form-data; name="user""#, "user", nil),
            (#"form-data; NAME="user""#, "user", nil),
            ("form-data; name=user", "user", nil),
            (#"form-data; name="user"; filename="u.txt""#, "user", "u.txt"),
            (#"form-data; name="user"; FileName="u.txt""#, "user", "u.txt"),
            (#"form-data; name="user"; filenamex="1""#, "user", nil),
            (#"Form-Data ;name="file";  filename="노트 (1).bin"  "#, "file", "노트 (1).bin"),
        ] as [(String, String, String?)])
    func formFieldsAreReadAsWerkzeugReadsThem(disposition: String, name: String, filename: String?) throws {
        let field = try #require(MultipartUserRewriter.formField(disposition))
        #expect(field.name == name && field.filename == filename)
    }

    /// The probe's parser differentials: each is a part werkzeug reads as the field `user` (or as something else
    /// than the gateway would), so the gateway refuses it.
    @Test(arguments: [
        #"form-data; name*=UTF-8''user"#, #"form-data; name="file"; filename*=UTF-8''a.txt"#,
        #"form-data; name="a"; name="user""#, #"form-data; name="user"; filename"#,
        #"form-data; name="user"; filename="#, #"form-data; name="user"; filename = "x""#,
        #"form-data; name ="user""#, #"form-data; name= "user""#, #"form-data; name="user"; FILENAME"#,
        #"form-data; name*0="us"; name*1="er""#, #"form-data; name="""#, #"form-data; name="user"; filename="""#,
        #"form-data; name="a\"; filename="user""#, #"form-data; name="unclosed"#, #"form-data; name="a" x"#,
        #"attachment; name="user""#, #"form-data; name="a";; filename="b""#,
    ])
    func whatTheTwoMightReadDifferentlyIsRefused(disposition: String) {
        #expect(MultipartUserRewriter.formField(disposition) == nil)
    }

    @Test func boundariesAreRFC2046s() {
        for good in [
            "x", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "x y", "a'()+_,-./:=?", String(repeating: "b", count: 70),
        ] {
            #expect(MultipartUserRewriter.isBoundary(good), "\(good)")
        }
        for bad in ["", "x ", "x;y", "x\"y", "x@y", "x\ty", "é", String(repeating: "b", count: 71)] {
            #expect(!MultipartUserRewriter.isBoundary(bad), "\(bad)")
        }
    }
}
