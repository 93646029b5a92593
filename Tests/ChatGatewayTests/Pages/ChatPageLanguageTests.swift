import Foundation
import Testing

@testable import ChatGateway

/// The page's language: `lang`, else `Accept-Language`, else English; `<html lang>` and the texts follow it.
@Suite("Chat page language", .hangLimit)
struct ChatPageLanguageTests {
    @Test(
        arguments: [
            ("ko", nil, "ko"), ("ko-KR", nil, "ko"), ("JA", nil, "ja"), ("zh_CN", nil, "zh"),
            (nil, "es-ES,es;q=0.9,en;q=0.8", "es"), (nil, "fr-FR, ja;q=0.9, en;q=0.8", "ja"),
            (nil, "en;q=0.2, zh-TW;q=0.7", "zh"), (nil, "ko;q=0, ja", "ja"), ("fr", "ko-KR", "ko"),
            (nil, "fr, de", "en"), (nil, nil, "en"), ("", "", "en"),
        ] as [(String?, String?, String)])
    func negotiation(requested: String?, acceptLanguage: String?, expected: String) {
        #expect(PageLanguage.negotiate(requested: requested, acceptLanguage: acceptLanguage) == expected)
    }

    @Test(arguments: [
        ("en", "Type a message...", "Send"), ("es", "Escribe un mensaje...", "Enviar"), ("ko", "메시지를 입력하세요...", "보내기"),
        ("zh", "输入消息...", "发送"), ("ja", "メッセージを入力...", "送信"),
    ])
    func thePageSpeaksTheLanguage(lang: String, placeholder: String, send: String) async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(.GET, "/chat?lang=\(lang)&token=\(try await gateway.token())")
            #expect(reply.text.contains(#"<html lang="\#(lang)""#))
            #expect(reply.text.contains(#"placeholder="\#(placeholder)""#))
            #expect(reply.text.contains(#"<span class="send-label">\#(send)</span>"#))
            let error = try await gateway.call(.GET, "/chat", headers: [("Accept-Language", "\(lang);q=0.9")])
            #expect(error.status == 401)
            #expect(error.text.contains(#"<html lang="\#(lang)""#))
            #expect(error.text.contains(HTMLText.escape(PageStrings.forLanguage(lang).errorMissing)))
        }
    }

    @Test func theSeedsEnglishStringsAreKept() {
        let english = PageStrings.english
        #expect(english.placeholder == "Type a message...")
        #expect(english.send == "Send")
        #expect(english.empty == "Type a message.")
        #expect(english.emptyFull == "Start a new chat or select one from the list.")
        #expect(english.errorList == "Failed to load conversations.")
        #expect(english.errorMessages == "Failed to load messages.")
        #expect(english.errorSend == "Send failed.")
    }

    /// A forgotten translation would show English in the middle of another language.
    @Test(arguments: ["es", "ko", "zh", "ja"])
    func everyStringIsTranslated(lang: String) throws {
        let english = try Self.fields(PageStrings.english)
        let translated = try Self.fields(PageStrings.forLanguage(lang))
        #expect(Set(translated.keys) == Set(english.keys))
        let untranslated = english.keys.filter { english[$0] == translated[$0] && !["title"].contains($0) }
        #expect(untranslated.isEmpty, "\(lang) keeps English for \(untranslated.sorted())")
        #expect(translated.values.allSatisfy { !$0.isEmpty })
    }

    private static func fields(_ strings: PageStrings) throws -> [String: String] {
        try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(strings)) as? [String: String])
    }

    @Test func escaping() {
        #expect(HTMLText.escape(#"<a href="x">'&'</a>"#) == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        #expect(HTMLText.escape("안녕 🙂") == "안녕 🙂")
    }
}
