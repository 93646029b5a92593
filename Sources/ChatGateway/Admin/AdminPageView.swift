import Foundation

/// The admin console's HTML: the sign-in form, or the console whose script (`admin.js`) fills in the systems,
/// keys, webhooks, personal data (export, erasure, legal hold) and audit sections from `/admin/v1/...` with the
/// session cookie.
struct AdminPageView {
    typealias Content = OperatorPageContent

    let language: String
    let strings: AdminPageStrings
    let query: HistoryPageQuery
    let content: Content

    func render() -> String {
        let s = HTMLEscaped(strings)
        return OperatorPageDocument(
            language: language, title: strings.title, stringsJSON: OperatorPageDocument.json(strings),
            stylesheets: ["/chat-assets/chat.css", "/chat-assets/history.css", "/chat-assets/admin.css"],
            scripts: content == .signedIn ? ["/chat-assets/admin.js"] : [], bodyClass: "history-page admin-page"
        ).render(content, signIn: { signIn(s, notice: $0) }, signedIn: { console(s) })
    }

    private func signIn(_ s: HTMLEscaped<AdminPageStrings>, notice: SignInNotice?) -> String {
        let message = notice?.message(
            wrongKey: s.wrongKey, crossSite: s.crossSite, sessionEnded: s.sessionEnded,
            tooManyAttempts: s.tooManyAttempts)
        return OperatorPageDocument.signIn(
            .init(
                action: query.path("/admin/login"), title: s.title, intro: s.signInIntro, label: s.adminKey,
                fieldID: "admin-key", fieldName: "admin_key", submit: s.signIn, message: message))
    }

    private func console(_ s: HTMLEscaped<AdminPageStrings>) -> String {
        """
        <a class="skip-link" href="#systems-title">\(s.systems)</a>
        <header class="topbar">
          <h1 class="brand">\(s.title)</h1>
          <nav class="section-nav" aria-label="\(s.sections)">
            <a href="#systems">\(s.systems)</a><a href="#keys">\(s.keys)</a><a href="#webhooks">\(s.webhooks)</a><a href="#personal-data">\(s.personalData)</a><a href="#audit">\(s.audit)</a>
          </nav>
          <div class="topbar-actions">
            <form method="post" action="\(HTMLText.escape(query.path("/admin/logout")))">
              <button type="submit" class="button small" id="sign-out">\(s.signOut)</button>
            </form>
          </div>
        </header>
        <p class="sync-status" id="status" role="status" aria-live="polite"></p>
        <main class="admin-main">
          <section class="results" id="systems" aria-labelledby="systems-title">
            <div class="results-head">
              <h2 id="systems-title" tabindex="-1">\(s.systems)</h2>
              <p class="result-count" id="systems-count"></p>
              <button type="button" class="button small primary" id="add-system">\(s.addSystem)</button>
            </div>
            <p class="load-error" id="systems-error" role="alert"></p>
            <div class="table-wrap">
              <table class="results-table admin-table" id="systems-table" aria-labelledby="systems-title" aria-busy="true">
                <thead><tr>
                  <th scope="col">\(s.systemID)</th><th scope="col">\(s.source)</th><th scope="col">\(s.state)</th>
                  <th scope="col">\(s.origins)</th><th scope="col">\(s.difyHost)</th><th scope="col">\(s.difyKey)</th>
                  <th scope="col">\(s.retention)</th><th scope="col">\(s.actions)</th>
                </tr></thead>
                <tbody id="systems-body"></tbody>
              </table>
            </div>
          </section>
          <section class="results" id="keys" aria-labelledby="keys-title">
            <div class="results-head">
              <h2 id="keys-title" tabindex="-1">\(s.keys)</h2>
              <p class="result-count" id="keys-count"></p>
              <button type="button" class="button small primary" id="create-key">\(s.createKey)</button>
            </div>
            <div class="new-key" id="new-key" role="region" aria-labelledby="new-key-title" tabindex="-1" hidden>
              <h3 id="new-key-title">\(s.newKeyTitle)</h3>
              <p class="new-key-warning" id="new-key-warning">\(Icon.alert)<span>\(s.newKeyWarning)</span></p>
              <div class="new-key-row">
                <output class="new-key-value" id="new-key-value" aria-describedby="new-key-warning"></output>
                <button type="button" class="button small" id="copy-key">\(s.copy)</button>
                <button type="button" class="button small" id="dismiss-key">\(s.done)</button>
              </div>
            </div>
            <p class="load-error" id="keys-error" role="alert"></p>
            <div class="table-wrap">
              <table class="results-table admin-table" id="keys-table" aria-labelledby="keys-title" aria-busy="true">
                <thead><tr>
                  <th scope="col">\(s.name)</th><th scope="col">\(s.keyPrefix)</th><th scope="col">\(s.kind)</th>
                  <th scope="col">\(s.keySystems)</th><th scope="col">\(s.source)</th><th scope="col">\(s.created)</th>
                  <th scope="col">\(s.expires)</th><th scope="col">\(s.lastUsed)</th><th scope="col">\(s.status)</th>
                  <th scope="col">\(s.actions)</th>
                </tr></thead>
                <tbody id="keys-body"></tbody>
              </table>
            </div>
          </section>
          \(webhooksSection(s))
          \(personalDataSection(s))
          <section class="results" id="audit" aria-labelledby="audit-title">
            <div class="results-head">
              <h2 id="audit-title" tabindex="-1">\(s.audit)</h2>
            </div>
            <p class="load-error" id="audit-error" role="alert"></p>
            <div class="table-wrap">
              <table class="results-table admin-table" id="audit-table" aria-labelledby="audit-title" aria-busy="true">
                <thead><tr>
                  <th scope="col">\(s.at)</th><th scope="col">\(s.actor)</th><th scope="col">\(s.action)</th>
                  <th scope="col">\(s.target)</th><th scope="col">\(s.detail)</th>
                </tr></thead>
                <tbody id="audit-body"></tbody>
              </table>
            </div>
            <nav class="pager" aria-label="\(s.audit)">
              <button type="button" class="button small" id="audit-more" hidden>\(s.loadMore)</button>
            </nav>
          </section>
        </main>
        \(systemDialog(s))
        \(keyDialog(s))
        \(webhookDialog(s))
        <dialog class="admin-dialog" id="confirm-dialog" aria-labelledby="confirm-text">
          <form method="dialog">
            <p id="confirm-text"></p>
            <div class="dialog-actions">
              <button type="submit" class="button" value="cancel" autofocus>\(s.cancel)</button>
              <button type="submit" class="button danger" value="confirm" id="confirm-button">\(s.confirm)</button>
            </div>
          </form>
        </dialog>
        """
    }

    private func systemDialog(_ s: HTMLEscaped<AdminPageStrings>) -> String {
        """
        <dialog class="admin-dialog" id="system-dialog" aria-labelledby="system-dialog-title">
          <form id="system-form" novalidate>
            <h2 id="system-dialog-title"></h2>
            <p class="form-error" id="system-form-error" role="alert" hidden></p>
            \(field("system_id", label: s.systemID, attributes: #"required pattern="[a-z0-9][a-z0-9\-]{0,63}" maxlength="64" autocomplete="off""#))
            \(field("name", label: s.name))
            \(field("dify_base_url", label: s.difyURL, type: "url", attributes: #"placeholder="https://api.dify.ai/v1""#))
            \(field("dify_api_key", label: s.difyKey, type: "password", hint: s.difyKeyKeep, attributes: #"autocomplete="off""#))
            <div class="field"><label for="system-allowed-origins">\(s.originsField)</label>
              <textarea id="system-allowed-origins" name="allowed_origins" rows="3" spellcheck="false" aria-describedby="system-allowed-origins-hint" placeholder="https://drillquiz.example"></textarea>
              <p class="field-hint" id="system-allowed-origins-hint">\(s.originsHint)</p></div>
            \(field("rate_limit_per_user", label: s.rateLimit, hint: s.rateLimitHint))
            \(field("max_streams_per_user", label: s.maxStreams, type: "number", attributes: #"min="1" step="1""#))
            \(field("openai_model", label: s.openAIModel, hint: s.openAIModelHint, attributes: #"maxlength="128" pattern="[^\s/]*" autocomplete="off""#))
            <div class="field"><label for="system-source-links">\(s.sourceLinks)</label>
              <textarea id="system-source-links" name="source_links" rows="3" spellcheck="false" aria-describedby="system-source-links-hint" placeholder="dataset:3f1c… https://kb.example/docs/{document_id}"></textarea>
              <p class="field-hint" id="system-source-links-hint">\(s.sourceLinksHint)</p></div>
            <label class="check"><input type="checkbox" id="system-inline-math" name="inline_math"> \(s.inlineMath)</label>
            <fieldset class="form-group">
              <legend>\(s.personalData)</legend>
              \(field("retention_days", label: s.retentionDays, type: "number", hint: s.retentionDaysHint, attributes: #"min="0" step="1" inputmode="numeric""#))
              <label class="check"><input type="checkbox" id="system-retention-delete-in-dify" name="retention_delete_in_dify"> \(s.retentionDeleteInDify)</label>
              <label class="check"><input type="checkbox" id="system-self-export" name="self_export"> \(s.selfExport)</label>
            </fieldset>
            <label class="check"><input type="checkbox" id="system-enabled" name="enabled" checked> \(s.enabled)</label>
            <div class="dialog-actions">
              <button type="button" class="button" data-close>\(s.cancel)</button>
              <button type="submit" class="button primary">\(s.save)</button>
            </div>
          </form>
        </dialog>
        """
    }

    private func keyDialog(_ s: HTMLEscaped<AdminPageStrings>) -> String {
        """
        <dialog class="admin-dialog" id="key-dialog" aria-labelledby="key-dialog-title">
          <form id="key-form" novalidate>
            <h2 id="key-dialog-title">\(s.createKeyTitle)</h2>
            <p class="form-error" id="key-form-error" role="alert" hidden></p>
            <div class="field"><label for="key-name">\(s.name)</label><input id="key-name" name="name" type="text" required maxlength="100" autocomplete="off"></div>
            <div class="field"><label for="key-kind">\(s.kind)</label>
              <select id="key-kind" name="kind"><option value="server">\(s.kindServer)</option><option value="browser">\(s.kindBrowser)</option></select></div>
            <div class="field"><label for="key-systems">\(s.keySystems)</label><input id="key-systems" name="systems" type="text" autocomplete="off" spellcheck="false" aria-describedby="key-systems-hint">
              <p class="field-hint" id="key-systems-hint">\(s.systemsHint)</p></div>
            <div class="field"><label for="key-expires">\(s.expiresAt)</label><input id="key-expires" name="expires_at" type="datetime-local"></div>
            <div class="dialog-actions">
              <button type="button" class="button" data-close>\(s.cancel)</button>
              <button type="submit" class="button primary">\(s.createKey)</button>
            </div>
          </form>
        </dialog>
        """
    }

    /// The event types an endpoint can subscribe to (docs/webhooks.md); `webhook.test` goes to its endpoint whatever
    /// it subscribes to.
    static let webhookEvents = WebhookEvent.Kind.allCases.filter { $0 != .webhookTest }.map(\.rawValue)

    /// The endpoints, the secret shown once, and one endpoint's deliveries with their replays.
    private func webhooksSection(_ s: HTMLEscaped<AdminPageStrings>) -> String {
        """
        <section class="results" id="webhooks" aria-labelledby="webhooks-title">
          <div class="results-head">
            <h2 id="webhooks-title" tabindex="-1">\(s.webhooks)</h2>
            <p class="result-count" id="webhooks-count"></p>
            <button type="button" class="button small primary" id="add-webhook">\(s.addEndpoint)</button>
          </div>
          <div class="new-key" id="new-secret" role="region" aria-labelledby="new-secret-title" tabindex="-1" hidden>
            <h3 id="new-secret-title"></h3>
            <p class="new-key-warning" id="new-secret-warning">\(Icon.alert)<span>\(s.newKeyWarning)</span></p>
            <div class="new-key-row">
              <output class="new-key-value" id="new-secret-value" aria-describedby="new-secret-warning new-secret-hint"></output>
              <button type="button" class="button small" id="copy-secret">\(s.copy)</button>
              <button type="button" class="button small" id="dismiss-secret">\(s.done)</button>
            </div>
            <p class="field-hint" id="new-secret-hint"></p>
          </div>
          <p class="load-error" id="webhooks-error" role="alert"></p>
          <div class="table-wrap">
            <table class="results-table admin-table" id="webhooks-table" aria-labelledby="webhooks-title" aria-busy="true">
              <thead><tr>
                <th scope="col">\(s.endpointURL)</th><th scope="col">\(s.endpointSystem)</th><th scope="col">\(s.events)</th>
                <th scope="col">\(s.content)</th><th scope="col">\(s.state)</th><th scope="col">\(s.successRate)</th>
                <th scope="col">\(s.actions)</th>
              </tr></thead>
              <tbody id="webhooks-body"></tbody>
            </table>
          </div>
          <div class="deliveries" id="deliveries" role="region" aria-labelledby="deliveries-title" hidden>
            <div class="deliveries-head">
              <h3 id="deliveries-title" tabindex="-1"></h3>
              <button type="button" class="button small" id="deliveries-refresh">\(s.refresh)</button>
              <button type="button" class="button small" id="deliveries-close">\(s.close)</button>
            </div>
            <form class="replay-since" id="replay-form" novalidate>
              <div class="field"><label for="replay-since">\(s.replaySince)</label>
                <input id="replay-since" name="since" type="datetime-local" step="1" required aria-describedby="replay-since-hint"></div>
              <button type="submit" class="button small">\(s.replaySinceButton)</button>
              <p class="field-hint" id="replay-since-hint">\(s.replaySinceHint)</p>
              <p class="form-error" id="replay-form-error" role="alert" hidden></p>
            </form>
            <p class="check-result" id="deliveries-result" role="status"></p>
            <p class="load-error" id="deliveries-error" role="alert"></p>
            <div class="table-wrap">
              <table class="results-table admin-table" id="deliveries-table" aria-labelledby="deliveries-title" aria-busy="false">
                <thead><tr>
                  <th scope="col">\(s.at)</th><th scope="col">\(s.event)</th><th scope="col">\(s.statusCode)</th>
                  <th scope="col">\(s.latency)</th><th scope="col">\(s.result)</th><th scope="col">\(s.response)</th>
                  <th scope="col">\(s.actions)</th>
                </tr></thead>
                <tbody id="deliveries-body"></tbody>
              </table>
            </div>
            <nav class="pager" aria-label="\(s.deliveries)">
              <button type="button" class="button small" id="deliveries-more" hidden>\(s.loadMore)</button>
            </nav>
          </div>
        </section>
        """
    }

    /// One user's data: export it, erase it (with the erasure's receipt, followed until it ends), the recent
    /// erasures, and legal holds on conversations (docs/personal-data.md).
    private func personalDataSection(_ s: HTMLEscaped<AdminPageStrings>) -> String {
        """
        <section class="results" id="personal-data" aria-labelledby="personal-data-title">
          <div class="results-head">
            <h2 id="personal-data-title" tabindex="-1">\(s.personalData)</h2>
          </div>
          <p class="section-intro">\(s.personalDataIntro)</p>
          <form class="subject-form" id="subject-form" novalidate>
            <div class="field"><label for="subject-system">\(s.subjectSystem)</label>
              <select id="subject-system" name="system_id" required><option value="">\(s.chooseSystem)</option></select></div>
            <div class="field" id="subject-other-field" hidden><label for="subject-other-system">\(s.systemID)</label>
              <input id="subject-other-system" name="other_system_id" type="text" maxlength="64" autocomplete="off" spellcheck="false"></div>
            <div class="field"><label for="subject-user">\(s.userID)</label>
              <input id="subject-user" name="user_id" type="text" required maxlength="255" autocomplete="off" spellcheck="false" aria-describedby="subject-user-hint"></div>
            <div class="field field-format"><label for="subject-format">\(s.exportFormat)</label>
              <select id="subject-format" name="format"><option value="json">\(s.formatJSON)</option><option value="jsonl">\(s.formatJSONL)</option></select></div>
            <div class="subject-actions">
              <button type="submit" class="button primary" id="export-user">\(s.exportData)</button>
              <button type="button" class="button danger-outline" id="erase-user">\(s.eraseUser)</button>
            </div>
            <p class="field-hint" id="subject-user-hint">\(s.userIDHint)</p>
            <p class="form-error" id="subject-form-error" role="alert" hidden></p>
            <p class="check-result" id="subject-result" role="status"></p>
          </form>
          <div class="receipt" id="receipt" role="region" aria-labelledby="receipt-title" tabindex="-1" hidden>
            <div class="receipt-head">
              <h3 id="receipt-title"></h3>
              <button type="button" class="button small" id="receipt-close">\(s.close)</button>
            </div>
            <p class="receipt-status" id="receipt-status" role="status" aria-live="polite" aria-atomic="true"></p>
            <p class="load-error" id="receipt-error" role="alert"></p>
            <dl class="facts" id="receipt-facts"></dl>
            <div class="receipt-grid">
              <div><h4>\(s.steps)</h4><ol class="receipt-steps" id="receipt-steps"></ol></div>
              <div><h4>\(s.deletedInGateway)</h4><dl class="facts counts" id="receipt-gateway"></dl></div>
            </div>
            <h4 id="receipt-dify-title">\(s.deletedInDify)</h4>
            <div class="table-wrap">
              <table class="results-table admin-table" id="receipt-dify" aria-labelledby="receipt-dify-title">
                <thead><tr>
                  <th scope="col">\(s.difyApp)</th><th scope="col">\(s.found)</th><th scope="col">\(s.deletedCount)</th>
                  <th scope="col">\(s.confirmedGone)</th><th scope="col">\(s.retries)</th>
                </tr></thead>
                <tbody id="receipt-dify-body"></tbody>
              </table>
            </div>
            <h4>\(s.difyKeeps)</h4>
            <ul class="receipt-keeps" id="receipt-keeps"></ul>
            <p class="field-hint" id="receipt-version"></p>
          </div>
          <div class="subsection-head">
            <h3 id="erasures-title" tabindex="-1">\(s.recentErasures)</h3>
            <button type="button" class="button small" id="erasures-refresh">\(s.refresh)</button>
          </div>
          <p class="load-error" id="erasures-error" role="alert"></p>
          <div class="table-wrap">
            <table class="results-table admin-table" id="erasures-table" aria-labelledby="erasures-title" aria-busy="true">
              <thead><tr>
                <th scope="col">\(s.startedAt)</th><th scope="col">\(s.subjectSystem)</th><th scope="col">\(s.subject)</th>
                <th scope="col">\(s.status)</th><th scope="col">\(s.deletedCount)</th><th scope="col">\(s.requestedBy)</th>
                <th scope="col">\(s.actions)</th>
              </tr></thead>
              <tbody id="erasures-body"></tbody>
            </table>
          </div>
          <div class="subsection-head">
            <h3 id="hold-title">\(s.legalHold)</h3>
          </div>
          <form class="subject-form" id="hold-form" novalidate aria-labelledby="hold-title" aria-describedby="hold-intro">
            <p class="field-hint hold-intro" id="hold-intro">\(s.legalHoldIntro)</p>
            <div class="field"><label for="hold-conversation">\(s.conversationID)</label>
              <input id="hold-conversation" name="conversation_id" type="text" required maxlength="255" autocomplete="off" spellcheck="false"></div>
            <div class="field"><label for="hold-reason">\(s.holdReason)</label>
              <input id="hold-reason" name="reason" type="text" maxlength="500" autocomplete="off"></div>
            <div class="subject-actions">
              <button type="submit" class="button" id="hold-check">\(s.checkHold)</button>
              <button type="button" class="button primary" id="hold-place">\(s.placeHold)</button>
              <button type="button" class="button" id="hold-release">\(s.releaseHold)</button>
            </div>
            <p class="form-error" id="hold-form-error" role="alert" hidden></p>
            <div class="hold-state" id="hold-state" role="status" aria-live="polite" aria-atomic="true"></div>
          </form>
        </section>
        """
    }

    private func webhookDialog(_ s: HTMLEscaped<AdminPageStrings>) -> String {
        let events = Self.webhookEvents.map { event -> String in
            let id = "webhook-event-" + event.replacingOccurrences(of: ".", with: "-")
            return """
                <label class="check event" for="\(id)"><input type="checkbox" id="\(id)" name="events" value="\(event)"> <code>\(event)</code></label>
                """
        }.joined(separator: "\n    ")
        return """
            <dialog class="admin-dialog" id="webhook-dialog" aria-labelledby="webhook-dialog-title">
              <form id="webhook-form" novalidate>
                <h2 id="webhook-dialog-title">\(s.addEndpointTitle)</h2>
                <p class="form-error" id="webhook-form-error" role="alert" hidden></p>
                \(field("url", label: s.endpointURL, type: "url", hint: s.endpointURLHint, form: "webhook", attributes: #"required maxlength="2048" autocomplete="off" placeholder="https://drillquiz.example/hooks/chat""#))
                \(field("system_id", label: s.endpointSystem, hint: s.endpointSystemHint, form: "webhook", attributes: #"list="webhook-system-options" maxlength="64" autocomplete="off""#))
                <datalist id="webhook-system-options"></datalist>
                <fieldset class="events" aria-describedby="webhook-events-hint">
                  <legend>\(s.events)</legend>
                  <div class="event-grid">
                    \(events)
                  </div>
                  <p class="field-hint" id="webhook-events-hint">\(s.eventsHint)</p>
                </fieldset>
                <div class="check-field"><label class="check" for="webhook-include-content"><input type="checkbox" id="webhook-include-content" name="include_content" aria-describedby="webhook-include-content-hint"> \(s.includeContent)</label>
                  <p class="field-hint" id="webhook-include-content-hint">\(s.includeContentHint)</p></div>
                \(field("description", label: s.description, form: "webhook", attributes: #"maxlength="500" autocomplete="off""#))
                <div class="dialog-actions">
                  <button type="button" class="button" data-close>\(s.cancel)</button>
                  <button type="submit" class="button primary">\(s.addEndpoint)</button>
                </div>
              </form>
            </dialog>
            """
    }

    /// A labelled input of the system (or webhook) form, with an optional hint it is described by.
    private func field(
        _ name: String, label: String, type: String = "text", hint: String? = nil, form: String = "system",
        attributes: String = ""
    ) -> String {
        let id = form + "-" + name.replacingOccurrences(of: "_", with: "-")
        let described = hint == nil ? "" : #" aria-describedby="\#(id)-hint""#
        let hintLine = hint.map { #"<p class="field-hint" id="\#(id)-hint">\#($0)</p>"# } ?? ""
        return """
            <div class="field"><label for="\(id)">\(label)</label><input id="\(id)" name="\(name)" type="\(type)" spellcheck="false" \(attributes)\(described)>\(hintLine)</div>
            """
    }
}
