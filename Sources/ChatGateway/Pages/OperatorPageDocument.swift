import Foundation

/// The frame of the two operator pages (`/cache`, `/admin`): the document head, the page's strings for its script
/// in `data-strings` on `<html>` (the CSP forbids inline scripts), and the sign-in form, which works without any
/// script at all.
struct OperatorPageDocument {
    let language: String
    let title: String
    /// The page's texts as JSON, for its script.
    let stringsJSON: String
    let stylesheets: [String]
    let scripts: [String]
    let bodyClass: String

    func render(body: String) -> String {
        let links = stylesheets.map { #"<link rel="stylesheet" href="\#(HTMLText.escape($0))">"# }
        let sources = scripts.map { #"<script src="\#(HTMLText.escape($0))"></script>"# }
        return """
            <!doctype html>
            <html lang="\(HTMLText.escape(language))" data-strings="\(HTMLText.escape(stringsJSON))">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="color-scheme" content="light dark">
            <meta name="robots" content="noindex">
            <title>\(HTMLText.escape(title))</title>
            <link rel="icon" href="data:,">
            \((links + sources).joined(separator: "\n"))
            </head>
            <body class="\(bodyClass)">
            \(body)
            </body>
            </html>

            """
    }

    /// The texts of a sign-in form, already HTML-escaped.
    struct SignInForm {
        var action: String
        var title: String
        var intro: String
        var label: String
        var fieldID: String
        var fieldName: String
        var submit: String
        var message: String?
    }

    static func signIn(_ form: SignInForm) -> String {
        let alert =
            form.message.map {
                #"<p class="form-error" id="signin-error" role="alert">\#(Icon.alert)<span>\#($0)</span></p>"#
            } ?? ""
        let describedBy = form.message == nil ? "signin-intro" : "signin-intro signin-error"
        return """
            <main class="signin-page">
              <form class="signin-card" method="post" action="\(HTMLText.escape(form.action))">
                <h1>\(form.title)</h1>
                <p class="signin-intro" id="signin-intro">\(form.intro)</p>
                \(alert)
                <label for="\(form.fieldID)">\(form.label)</label>
                <input id="\(form.fieldID)" name="\(form.fieldName)" type="password" required autocomplete="current-password" spellcheck="false" autofocus aria-describedby="\(describedBy)"\(form.message == nil ? "" : #" aria-invalid="true""#)>
                <button type="submit" class="button primary">\(form.submit)</button>
              </form>
            </main>
            """
    }

    /// The sign-in form, or the signed-in page.
    func render(_ content: OperatorPageContent, signIn: (SignInNotice?) -> String, signedIn: () -> String) -> String {
        switch content {
        case .signIn(let notice): render(body: signIn(notice))
        case .signedIn: render(body: signedIn())
        }
    }

    static func json<Strings: Encodable>(_ strings: Strings) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(strings)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// What an operator page shows.
enum OperatorPageContent: Equatable {
    case signIn(notice: SignInNotice?)
    case signedIn
}

/// Why a sign-in form is shown again.
enum SignInNotice: Equatable {
    case wrongKey, crossSite, sessionEnded
    /// A valid key that serves only some systems, or only chat tokens (the history page).
    case keyTooNarrow
    /// Too many wrong keys from this address (the admin console).
    case tooManyAttempts(retryAfter: Int)

    /// The notice in a page's words; `{seconds}` in `tooManyAttempts` is filled in.
    func message(
        wrongKey: String, crossSite: String, sessionEnded: String, keyTooNarrow: String = "",
        tooManyAttempts: String = ""
    ) -> String {
        switch self {
        case .wrongKey: wrongKey
        case .crossSite: crossSite
        case .sessionEnded: sessionEnded
        case .keyTooNarrow: keyTooNarrow
        case .tooManyAttempts(let seconds): tooManyAttempts.replacingOccurrences(of: "{seconds}", with: "\(seconds)")
        }
    }
}
