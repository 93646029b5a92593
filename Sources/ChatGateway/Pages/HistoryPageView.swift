import Foundation

/// The history page's HTML: the sign-in form, or the signed-in page whose script fills in the table.
struct HistoryPageView {
    typealias Content = OperatorPageContent

    let language: String
    let strings: HistoryPageStrings
    let query: HistoryPageQuery
    let content: Content

    func render() -> String {
        let s = HTMLEscaped(strings)
        return OperatorPageDocument(
            language: language, title: strings.title, stringsJSON: OperatorPageDocument.json(strings),
            stylesheets: ["/chat-assets/chat.css", "/chat-assets/history.css"],
            scripts: content == .signedIn ? ["/chat-assets/markdown.js", "/chat-assets/history.js"] : [],
            bodyClass: "history-page"
        ).render(content, signIn: { signIn(s, notice: $0) }, signedIn: { signedIn(s) })
    }

    private func signIn(_ s: HTMLEscaped<HistoryPageStrings>, notice: SignInNotice?) -> String {
        let message = notice?.message(
            wrongKey: s.wrongKey, crossSite: s.crossSite, sessionEnded: s.sessionEnded, keyTooNarrow: s.keyTooNarrow)
        return OperatorPageDocument.signIn(
            .init(
                action: query.path("/cache/login"), title: s.title, intro: s.signInIntro, label: s.apiKey,
                fieldID: "api-key", fieldName: "api_key", submit: s.signIn, message: message))
    }

    private func signedIn(_ s: HTMLEscaped<HistoryPageStrings>) -> String {
        """
        <header class="topbar">
          <h1 class="brand">\(s.title)</h1>
          <div class="topbar-actions">
            <a class="button small" id="usage-link" href="\(HTMLText.escape(query.path("/cache/usage")))">\(HTMLText.escape(UsagePageStrings.forLanguage(language).usageLink))</a>
            <button type="button" class="button small" id="sync-button">\(Icon.sync)<span>\(s.syncNow)</span></button>
            <form method="post" action="\(HTMLText.escape(query.path("/cache/logout")))">
              <button type="submit" class="button small" id="sign-out">\(s.signOut)</button>
            </form>
          </div>
        </header>
        <p class="sync-status" id="sync-status" role="status" aria-live="polite"></p>
        <form class="filters" id="filters" role="search" aria-label="\(s.filters)">
          \(field("system_id", label: s.system, type: "text"))
          \(field("user_id", label: s.user, type: "text"))
          \(field("from_date", label: s.fromDate, type: "date"))
          \(field("to_date", label: s.toDate, type: "date"))
          \(field("q", label: s.text, type: "search", placeholder: s.textPlaceholder))
          <div class="filter-actions">
            <button type="submit" class="button primary">\(s.apply)</button>
            <button type="reset" class="button">\(s.clear)</button>
          </div>
        </form>
        <main class="workspace" id="workspace">
          <section class="results" aria-labelledby="results-title">
            <div class="results-head">
              <h2 id="results-title">\(s.conversations)</h2>
              <p class="result-count" id="result-count" role="status" aria-live="polite"></p>
              <div class="export" role="group" aria-label="\(s.export)">
                <span class="export-label" aria-hidden="true">\(s.export)</span>
                <a class="button small" id="export-csv" href="/v1/cache/export?format=csv" download>\(Icon.download)<span>\(s.exportCSV)</span></a>
                <a class="button small" id="export-jsonl" href="/v1/cache/export?format=jsonl" download>\(Icon.download)<span>\(s.exportJSONL)</span></a>
              </div>
            </div>
            <p class="load-error" id="load-error" role="alert"></p>
            <div class="table-wrap">
              <table class="results-table" id="results-table" aria-labelledby="results-title" aria-busy="true">
                <thead><tr>
                  <th scope="col">\(s.conversation)</th><th scope="col">\(s.system)</th><th scope="col">\(s.user)</th>
                  <th scope="col">\(s.created)</th><th scope="col">\(s.updated)</th>
                </tr></thead>
                <tbody id="results-body"></tbody>
              </table>
            </div>
            <nav class="pager" id="pager" aria-label="\(s.pages)">
              <button type="button" class="button small" id="previous-page" disabled>\(s.previous)</button>
              <span class="page-number" id="page-number"></span>
              <button type="button" class="button small" id="next-page" disabled>\(s.next)</button>
            </nav>
          </section>
          <section class="detail" id="detail" aria-labelledby="detail-title" hidden>
            <header class="detail-head">
              <div class="detail-heading">
                <h2 id="detail-title" tabindex="-1"></h2>
                <p class="detail-meta" id="detail-meta"></p>
              </div>
              <button type="button" class="icon-button" id="detail-close" aria-label="\(s.close)" title="\(s.close)">\(Icon.close)</button>
            </header>
            <div class="detail-messages" id="detail-messages" aria-live="polite"></div>
          </section>
        </main>
        """
    }

    /// A labelled filter input, pre-filled from the URL so a reload or a shared link keeps the filters.
    private func field(_ name: String, label: String, type: String, placeholder: String? = nil) -> String {
        let id = "filter-" + name.replacingOccurrences(of: "_", with: "-")
        let value = query.value(name).map { #" value="\#(HTMLText.escape($0))""# } ?? ""
        let hint = placeholder.map { #" placeholder="\#($0)""# } ?? ""
        return """
            <div class="field field-\(name)"><label for="\(id)">\(label)</label><input id="\(id)" name="\(name)" type="\(type)"\(value)\(hint) autocomplete="off" spellcheck="false"></div>
            """
    }
}

extension Icon {
    static let sync =
        #"<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M20 11a8 8 0 0 0-14.3-4.9L4 8M4 4v4h4M4 13a8 8 0 0 0 14.3 4.9L20 16M20 20v-4h-4"/></svg>"#
    static let download =
        #"<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 4v11M7 10l5 5 5-5M5 19h14"/></svg>"#
    static let close =
        #"<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M6 6l12 12M18 6L6 18"/></svg>"#
}
