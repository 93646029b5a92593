import Foundation

/// The operators' usage view (`GET /cache/usage`, signed in): the period picker and the system filter, pre-filled
/// from the URL; the script draws the charts (SVG) and the tables from `GET /v1/usage`.
struct UsagePageView {
    let language: String
    let strings: UsagePageStrings
    let query: HistoryPageQuery

    func render() -> String {
        let s = HTMLEscaped(strings)
        return OperatorPageDocument(
            language: language, title: strings.title, stringsJSON: OperatorPageDocument.json(strings),
            stylesheets: ["/chat-assets/chat.css", "/chat-assets/history.css", "/chat-assets/usage.css"],
            scripts: ["/chat-assets/usage.js"], bodyClass: "history-page usage-page"
        ).render(body: body(s))
    }

    private func body(_ s: HTMLEscaped<UsagePageStrings>) -> String {
        let days = query.value("days") ?? (query.value("from_date") == nil ? "30" : "custom")
        func option(_ value: String, _ label: String) -> String {
            #"<option value="\#(value)"\#(days == value ? " selected" : "")>\#(label)</option>"#
        }
        func value(_ name: String) -> String { query.value(name).map { #" value="\#(HTMLText.escape($0))""# } ?? "" }
        return """
            <header class="topbar">
              <h1 class="brand">\(s.title)</h1>
              <nav class="topbar-actions" aria-label="\(s.title)">
                <a class="button small" href="\(HTMLText.escape(query.path("/cache")))">\(s.conversationsLink)</a>
                <a class="button small" aria-current="page" href="\(HTMLText.escape(query.path("/cache/usage")))">\(s.usageLink)</a>
              </nav>
            </header>
            <form class="filters usage-filters" id="usage-filters" role="search" aria-label="\(s.period)">
              <div class="field"><label for="usage-days">\(s.period)</label>
                <select id="usage-days" name="days">\(option("7", s.last7))\(option("30", s.last30))\(option("90", s.last90))\(option("custom", s.custom))</select></div>
              <div class="field usage-custom"><label for="usage-from">\(s.fromDate)</label><input id="usage-from" name="from_date" type="date"\(value("from_date"))></div>
              <div class="field usage-custom"><label for="usage-to">\(s.toDate)</label><input id="usage-to" name="to_date" type="date"\(value("to_date"))></div>
              <div class="field"><label for="usage-system">\(s.system)</label><input id="usage-system" name="system_id" type="text" placeholder="\(s.allSystems)" autocomplete="off" spellcheck="false"\(value("system_id"))></div>
              <div class="filter-actions">
                <button type="submit" class="button primary">\(s.show)</button>
                <a class="button" id="usage-csv" href="/v1/usage?format=csv" download>\(Icon.download)<span>\(s.downloadCSV)</span></a>
              </div>
            </form>
            <main class="usage" id="usage" aria-busy="true">
              <p class="result-count" id="usage-status" role="status" aria-live="polite">\(s.loading)</p>
              <div class="usage-charts" id="usage-charts"></div>
              <section class="usage-top" aria-labelledby="top-title">
                <h2 id="top-title">\(s.topUsers)</h2>
                <div class="table-wrap"><table class="results-table" id="top-users" aria-labelledby="top-title">
                  <thead><tr><th scope="col">\(s.user)</th><th scope="col">\(s.system)</th><th scope="col" class="number">\(s.chats)</th><th scope="col" class="number">\(s.tokens)</th><th scope="col" class="number">\(s.cost)</th></tr></thead>
                  <tbody></tbody>
                </table></div>
              </section>
            </main>
            """
    }
}
