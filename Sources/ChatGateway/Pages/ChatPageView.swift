import Foundation

/// The chat page's HTML: one shell for the app and for the friendly error, in one language.
///
/// The page carries no inline script (its CSP forbids it): what the script needs travels in `data-`
/// attributes of `<html>`, the token among them, which the script reads once and removes.
struct ChatPageView {
    enum Mode: String { case full, embed }

    let language: String
    let strings: PageStrings
    let mode: Mode
    let access: ChatPageAccess

    func render() -> String {
        let s = HTMLEscaped(strings)
        return """
            <!doctype html>
            <html lang="\(language)" \(dataAttributes())>
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
            <meta name="color-scheme" content="light dark">
            <meta name="referrer" content="no-referrer">
            <title>\(s.title)</title>
            <link rel="icon" href="data:,">
            <link rel="stylesheet" href="/chat-assets/chat.css">
            <script src="/chat-assets/chat/boot.js"></script>
            <script src="/chat-assets/vendor/dompurify/purify.min.js" defer></script>
            <script src="/chat-assets/vendor/marked/marked.min.js" defer></script>
            <script src="/chat-assets/chat/main.js" type="module"></script>
            </head>
            <body>
            <div class="app" id="app" hidden>
              <aside class="sidebar" id="sidebar" aria-label="\(s.conversations)">
                <div class="sidebar-head">
                  <h1 class="brand">\(s.title)</h1>
                  <button type="button" class="button primary new-chat" data-action="new-chat">\(Icon.plus)<span>\(s.newChat)</span></button>
                </div>
                <nav class="conversation-nav" aria-label="\(s.conversations)">
                  <ul class="conversation-list" id="conversation-list"></ul>
                  <p class="list-status" id="list-status" role="status"></p>
                </nav>
                <div class="sidebar-foot" id="sidebar-foot" hidden>
                  <button type="button" class="button data-export" id="data-export" data-action="download-data">\(Icon.download)<span class="data-export-label">\(s.downloadData)</span></button>
                  <p class="data-export-status" id="data-export-status" role="status" aria-live="polite"></p>
                </div>
              </aside>
              <div class="scrim" id="scrim" hidden></div>
              <main class="chat" id="chat">
                <header class="chat-head">
                  <button type="button" class="icon-button menu-button" id="menu-button" aria-label="\(s.showConversations)" aria-controls="sidebar" aria-expanded="false">\(Icon.menu)</button>
                  <h2 class="chat-title" id="chat-title">\(s.title)</h2>
                  <button type="button" class="icon-button head-download" id="head-download" data-action="download-data" aria-label="\(s.downloadData)" title="\(s.downloadData)" hidden>\(Icon.download)</button>
                  <button type="button" class="icon-button head-new-chat" data-action="new-chat" aria-label="\(s.newChat)" title="\(s.newChat)">\(Icon.plus)</button>
                </header>
                <div class="messages" id="messages" role="log" aria-live="polite" aria-relevant="additions text" tabindex="-1">
                  <p class="empty-state" id="empty-state">\(mode == .embed ? s.empty : s.emptyFull)</p>
                </div>
                <p class="visually-hidden" id="announcer" role="status" aria-live="polite"></p>
                <form class="composer" id="composer" novalidate>
                  <ul class="attachment-tray" id="attachment-tray" aria-label="\(s.attachments)" hidden></ul>
                  <div class="composer-row">
                    <button type="button" class="icon-button attach-button" id="attach-button" aria-label="\(s.attach)" title="\(s.attach)" hidden>\(Icon.paperclip)</button>
                    <input type="file" class="visually-hidden" id="file-input" multiple tabindex="-1" aria-hidden="true" aria-label="\(s.attach)">
                    <label class="visually-hidden" for="composer-input">\(s.messageLabel)</label>
                    <textarea id="composer-input" rows="1" placeholder="\(s.placeholder)" autocomplete="off" enterkeyhint="send"></textarea>
                    <button type="button" class="icon-button mic-button" id="mic-button" aria-label="\(s.record)" title="\(s.record)" hidden>\(Icon.microphone)</button>
                    <button type="button" class="button stop" id="stop-button" hidden>\(Icon.stop)<span>\(s.stop)</span></button>
                    <button type="submit" class="button primary send" id="send-button" aria-label="\(s.send)">\(Icon.send)<span class="send-label">\(s.send)</span></button>
                  </div>
                  <p class="composer-note" id="composer-note" aria-live="polite"></p>
                </form>
                <audio id="read-aloud-audio" preload="none" hidden></audio>
              </main>
            </div>
            <main class="error-page" id="error-page"\(errorHidden)>
              <div class="error-card" role="alert">
                <div class="error-icon" aria-hidden="true">\(Icon.alert)</div>
                <h1 id="error-title">\(s.errorTitle)</h1>
                <p id="error-text">\(errorText(s))</p>
                <p class="error-hint">\(s.errorHint)</p>
              </div>
            </main>
            </body>
            </html>

            """
    }

    private func dataAttributes() -> String {
        var attributes = ["data-mode": mode.rawValue, "data-strings": Self.json(strings)]
        switch access {
        case .granted(let caller, let token):
            attributes["data-token"] = token
            attributes["data-system"] = caller.systemID
            attributes["data-user"] = caller.userID
        case .refused(let refusal):
            attributes["data-refusal"] = refusal.rawValue
        }
        return attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(HTMLText.escape($0.value))\"" }.joined(
            separator: " ")
    }

    /// With a refused token the error shows at once, without waiting for the script (which may still find a
    /// kept session and open the app instead); with a granted one it stays hidden.
    private var errorHidden: String {
        if case .granted = access { return " hidden" }
        return ""
    }

    private func errorText(_ s: HTMLEscaped<PageStrings>) -> String {
        guard case .refused(let refusal) = access else { return s.errorMissing }
        switch refusal {
        case .missing: return s.errorMissing
        case .expired: return s.errorExpired
        case .invalid: return s.errorInvalid
        case .forbidden: return s.errorForbidden
        }
    }

    private static func json(_ strings: PageStrings) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(strings)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// The few icons the server renders (the script draws the others); decorative, so hidden from screen readers.
enum Icon {
    private static func svg(_ paths: String) -> String {
        #"<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">\#(paths)</svg>"#
    }
    static let plus = svg(#"<path d="M12 5v14M5 12h14"/>"#)
    static let menu = svg(#"<path d="M4 7h16M4 12h16M4 17h16"/>"#)
    static let send = svg(#"<path d="M5 12h13M13 6l6 6-6 6"/>"#)
    static let stop = svg(#"<rect x="7" y="7" width="10" height="10" rx="1.5"/>"#)
    static let paperclip = svg(
        #"<path d="M20 11.5l-8.2 8.2a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4L14.8 7"/>"#
    )
    static let microphone = svg(
        #"<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/>"#)
    static let alert = svg(#"<circle cx="12" cy="12" r="9"/><path d="M12 7.5v5.5M12 16.5v.01"/>"#)
}
