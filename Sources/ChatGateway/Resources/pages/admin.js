/*
 * The admin console (GET /admin, signed in). The server renders the shell, the dialogs and the texts; this
 * script calls /admin/v1/... with the console's session cookie and X-Requested-With (which no cross-site form can
 * send), fills the systems, keys, webhooks, personal data and audit sections, and runs their actions. Everything received goes into
 * the page as text: nothing from the API is ever parsed as HTML (a webhook receiver's answer included).
 */
(function () {
  'use strict';

  var root = document.documentElement;
  var strings = JSON.parse(root.getAttribute('data-strings') || '{}');
  var language = root.getAttribute('lang') || 'en';
  var dateFormat = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' });
  // Deliveries and their retries are seconds apart.
  var secondsFormat = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'medium' });
  var percentFormat = new Intl.NumberFormat(language, { style: 'percent', maximumFractionDigits: 1 });
  var millisecondsFormat = new Intl.NumberFormat(language, { style: 'unit', unit: 'millisecond', maximumFractionDigits: 0 });
  var numberFormat = new Intl.NumberFormat(language);
  var AUDIT_PAGE = 50;
  var ERASURES_PAGE = 20;
  var DELIVERIES_PAGE = 50;

  var ui = {};
  var state = {
    systems: [], editing: null, auditCursor: null, confirmAction: null,
    // The endpoint whose deliveries are open, the oldest attempt shown (`before` of the next page), the newest page's
    // attempts, the events whose newest attempt is shown; the systems the keys name (suggested in the webhook form).
    deliveriesOf: null, deliveriesBefore: null, attempts: [], attemptsSeen: {}, followTimer: null, keySystems: [],
    // The erasure whose receipt is shown, its poll, and what to focus when it closes.
    receiptOf: null, receiptTimer: null, receiptOpener: null
  };

  document.addEventListener('DOMContentLoaded', start);

  function start() {
    ['status', 'systems-body', 'systems-table', 'systems-count', 'systems-error', 'add-system', 'keys-body', 'keys-table',
      'keys-count', 'keys-error', 'create-key', 'new-key', 'new-key-value', 'copy-key', 'dismiss-key', 'audit-body',
      'audit-table', 'audit-error', 'audit-more', 'system-dialog', 'system-dialog-title', 'system-form', 'system-form-error',
      'key-dialog', 'key-form', 'key-form-error', 'confirm-dialog', 'confirm-text', 'webhooks-body', 'webhooks-table',
      'webhooks-title', 'webhooks-count', 'webhooks-error', 'add-webhook', 'new-secret', 'new-secret-title', 'new-secret-value',
      'new-secret-hint', 'copy-secret', 'dismiss-secret', 'webhook-dialog', 'webhook-form', 'webhook-form-error',
      'webhook-system-options', 'deliveries', 'deliveries-title', 'deliveries-refresh', 'deliveries-close', 'replay-form',
      'replay-form-error', 'deliveries-result', 'deliveries-error', 'deliveries-table', 'deliveries-body',
      'deliveries-more', 'subject-form', 'subject-system', 'subject-other-field', 'subject-other-system', 'subject-user',
      'subject-format', 'export-user', 'erase-user', 'subject-form-error', 'subject-result', 'receipt', 'receipt-title',
      'receipt-close', 'receipt-status', 'receipt-error', 'receipt-facts', 'receipt-steps', 'receipt-gateway',
      'receipt-dify-body', 'receipt-keeps', 'receipt-version', 'erasures-title', 'erasures-refresh', 'erasures-error',
      'erasures-table', 'erasures-body', 'hold-form', 'hold-conversation', 'hold-reason', 'hold-place', 'hold-release',
      'hold-form-error', 'hold-state'].forEach(function (id) {
      ui[id.replace(/-([a-z])/g, function (_, letter) { return letter.toUpperCase(); })] = document.getElementById(id);
    });
    ui.addSystem.addEventListener('click', function () { openSystemDialog(null); });
    ui.createKey.addEventListener('click', openKeyDialog);
    ui.systemForm.addEventListener('submit', saveSystem);
    ui.keyForm.addEventListener('submit', createKey);
    ui.copyKey.addEventListener('click', function () { copyShown(ui.newKeyValue, ui.copyKey); });
    ui.dismissKey.addEventListener('click', dismissNewKey);
    ui.addWebhook.addEventListener('click', openWebhookDialog);
    ui.webhookForm.addEventListener('submit', createWebhook);
    ui.copySecret.addEventListener('click', function () { copyShown(ui.newSecretValue, ui.copySecret); });
    ui.dismissSecret.addEventListener('click', dismissSecret);
    // Deliveries go on in the background: Refresh reads them and the endpoints' figures again.
    ui.deliveriesRefresh.addEventListener('click', function () { loadDeliveries(true); loadWebhooks(); });
    ui.deliveriesClose.addEventListener('click', function () { closeDeliveries(true); });
    ui.deliveriesMore.addEventListener('click', function () { loadDeliveries(false); });
    ui.replayForm.addEventListener('submit', replaySince);
    ui.auditMore.addEventListener('click', function () { loadAudit(false); });
    ui.subjectForm.addEventListener('submit', exportUser);
    ui.subjectSystem.addEventListener('change', showOtherSystem);
    ui.eraseUser.addEventListener('click', confirmErasure);
    ui.receiptClose.addEventListener('click', closeReceipt);
    ui.erasuresRefresh.addEventListener('click', loadErasures);
    ui.holdForm.addEventListener('submit', function (event) { event.preventDefault(); legalHold('GET'); });
    ui.holdPlace.addEventListener('click', function () { legalHold('PUT'); });
    ui.holdRelease.addEventListener('click', function () { legalHold('DELETE'); });
    ui.confirmDialog.addEventListener('close', function () {
      var action = state.confirmAction;
      state.confirmAction = null;
      if (action && ui.confirmDialog.returnValue === 'confirm') action();
    });
    document.querySelectorAll('[data-close]').forEach(function (button) {
      button.addEventListener('click', function () { button.closest('dialog').close(); });
    });
    loadSystems();
    loadKeys();
    loadWebhooks();
    loadErasures();
    loadAudit(true);
  }

  /* ---- the API ---- */

  /** fetch with the session cookie; a 401 means the session ended, so the server's sign-in form takes over. */
  function api(method, path, body) {
    var init = {
      method: method,
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-Requested-With': 'fetch' }
    };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (response) {
      if (response.status === 401) {
        window.location.assign('/admin' + window.location.search);
        throw new Error('');
      }
      if (!response.ok) {
        return response.json().catch(function () { return {}; }).then(function (reply) {
          var reason = typeof reply.detail === 'string' ? reply.detail : reply.error;
          throw new Error(typeof reason === 'string' ? reason : 'HTTP ' + response.status);
        });
      }
      return response;
    });
  }

  function json(response) { return response.status === 204 ? null : response.json(); }

  /* ---- systems ---- */

  function loadSystems() {
    ui.systemsTable.setAttribute('aria-busy', 'true');
    return api('GET', '/admin/v1/systems').then(json).then(function (systems) {
      state.systems = systems;
      suggestSystems();
      ui.systemsError.textContent = '';
      ui.systemsBody.replaceChildren.apply(ui.systemsBody, systems.length ? systems.map(systemRow) : [emptyRow(8, strings.noSystems)]);
      ui.systemsCount.textContent = String(systems.length);
    }).catch(function (error) {
      ui.systemsError.textContent = format(strings.loadFailed, { detail: error.message });
    }).finally(function () { ui.systemsTable.setAttribute('aria-busy', 'false'); });
  }

  function systemRow(system) {
    var row = el('tr', system.enabled ? '' : 'inactive');
    var id = cell(row, strings.systemID, 'id');
    id.append(text(system.system_id));
    if (system.name && system.name !== system.system_id) id.append(el('span', 'sub', system.name));

    var source = cell(row, strings.source);
    source.append(el('span', 'badge', system.source === 'environment' ? strings.sourceEnvironment : strings.sourceAdmin));
    if (system.also_defined_by_admin) source.append(el('span', 'sub', strings.alsoAdmin));

    cell(row, strings.state).append(el('span', 'badge ' + (system.enabled ? 'on' : 'off'), system.enabled ? strings.enabled : strings.disabled));

    var origins = cell(row, strings.origins);
    if (system.allowed_origins.length) {
      var list = el('ul', 'origins');
      system.allowed_origins.forEach(function (origin) { list.append(el('li', '', origin)); });
      origins.append(list);
    } else {
      origins.append(el('span', 'muted', strings.defaultOrigins));
    }

    cell(row, strings.difyHost, 'mono').append(text(system.dify_base_url ? hostOf(system.dify_base_url) : '—'));
    var key = cell(row, strings.difyKey, 'mono');
    key.append(text(system.dify_api_key_hint || '—'));
    if (!system.dify_api_key_readable) key.append(el('span', 'sub badge off', strings.keyUnreadable));

    // How long its messages are kept; null: RETENTION_DAYS (or nothing) applies.
    var retention = cell(row, strings.retention);
    var days = system.retention_days;
    retention.append(days === null || days === undefined ? el('span', 'muted', strings.retentionDefault)
      : text(days === 0 ? strings.retentionForever : format(strings.retentionDaysValue, { days: numberFormat.format(days) })));
    if (system.retention_delete_in_dify) retention.append(el('span', 'sub', strings.retentionInDify));
    if (system.self_export) retention.append(el('span', 'sub', strings.selfExportOn));

    var actions = cell(row, strings.actions);
    var buttons = el('div', 'row-actions');
    var result = el('span', 'check-result');
    result.setAttribute('role', 'status');
    var check = button(strings.checkDify, function () { checkDify(system, check, result); });
    check.setAttribute('aria-describedby', uniqueID(result, 'check-' + system.system_id));
    buttons.append(check);
    if (system.source === 'admin') {
      buttons.append(
        button(strings.edit, function () { openSystemDialog(system); }, system.system_id),
        button(system.enabled ? strings.disable : strings.enable, function () { setEnabled(system, !system.enabled); }, system.system_id),
        button(strings.delete, function () { confirmDeleteSystem(system); }, system.system_id));
    } else {
      buttons.append(el('span', 'sub', strings.readOnly));
    }
    actions.append(buttons, result);
    return row;
  }

  function checkDify(system, trigger, result) {
    trigger.disabled = true;
    trigger.setAttribute('aria-busy', 'true');
    result.className = 'check-result';
    result.textContent = strings.checking;
    api('POST', '/admin/v1/systems/' + encodeURIComponent(system.system_id) + '/check').then(json).then(function (check) {
      result.className = 'check-result ' + (check.ok ? 'ok' : 'failed');
      result.textContent = check.ok
        ? format(strings.checkOK, { status: check.status, latency: check.latency_ms })
        : format(strings.checkFailed, { detail: check.detail });
    }).catch(function (error) {
      result.className = 'check-result failed';
      result.textContent = format(strings.checkFailed, { detail: error.message });
    }).finally(function () {
      trigger.disabled = false;
      trigger.removeAttribute('aria-busy');
    });
  }

  function openSystemDialog(system) {
    state.editing = system;
    var form = ui.systemForm;
    form.reset();
    hideError(ui.systemFormError);
    ui.systemDialogTitle.textContent = system ? format(strings.editSystemTitle, { system: system.system_id }) : strings.addSystemTitle;
    form.elements.system_id.readOnly = !!system;
    form.elements.dify_api_key.placeholder = system && system.dify_api_key_hint ? system.dify_api_key_hint : '';
    if (system) {
      form.elements.system_id.value = system.system_id;
      form.elements.name.value = system.name || '';
      form.elements.dify_base_url.value = system.dify_base_url || '';
      form.elements.allowed_origins.value = system.allowed_origins.join('\n');
      form.elements.rate_limit_per_user.value = system.rate_limit_per_user || '';
      form.elements.max_streams_per_user.value = system.max_streams_per_user || '';
      form.elements.openai_model.value = system.openai_model || '';
      form.elements.source_links.value = (system.source_links || []).map(sourceLinkLine).join('\n');
      form.elements.inline_math.checked = !!system.inline_math;
      form.elements.retention_days.value = system.retention_days === null || system.retention_days === undefined ? '' : String(system.retention_days);
      form.elements.retention_delete_in_dify.checked = !!system.retention_delete_in_dify;
      form.elements.self_export.checked = !!system.self_export;
      form.elements.enabled.checked = system.enabled;
    }
    ui.systemDialog.showModal();
    (system ? form.elements.name : form.elements.system_id).focus();
  }

  function saveSystem(event) {
    event.preventDefault();
    var form = ui.systemForm;
    var editing = state.editing;
    var body = {
      name: form.elements.name.value.trim() || form.elements.system_id.value.trim(),
      dify_base_url: form.elements.dify_base_url.value.trim(),
      allowed_origins: splitList(form.elements.allowed_origins.value),
      enabled: form.elements.enabled.checked,
      openai_model: form.elements.openai_model.value.trim(),
      source_links: form.elements.source_links.value.split('\n').map(function (line) { return line.trim(); })
        .filter(Boolean).map(sourceLinkOfLine),
      inline_math: form.elements.inline_math.checked
    };
    var key = form.elements.dify_api_key.value.trim();
    if (key) body.dify_api_key = key;
    // The rate limit goes when it changed: an empty one is refused on a new system.
    var rate = form.elements.rate_limit_per_user.value.trim();
    if (rate !== ((editing && editing.rate_limit_per_user) || '')) body.rate_limit_per_user = rate;
    var streams = form.elements.max_streams_per_user.value.trim();
    if (streams) body.max_streams_per_user = Number(streams);
    if (!editing) body.system_id = form.elements.system_id.value.trim();
    // Retention and self-service export: on a change only when editing (empty days: null, RETENTION_DAYS applies).
    var days = form.elements.retention_days.value.trim();
    if (form.elements.retention_days.validity.badInput) {
      ui.systemFormError.textContent = strings.retentionDaysHint;
      ui.systemFormError.hidden = false;
      form.elements.retention_days.focus();
      return;
    }
    var lifecycle = {
      retention_days: days === '' ? null : Number(days),
      retention_delete_in_dify: form.elements.retention_delete_in_dify.checked,
      self_export: form.elements.self_export.checked
    };
    Object.keys(lifecycle).forEach(function (field) {
      var was = editing ? editing[field] : undefined;
      if (was === undefined) was = field === 'retention_days' ? null : false;
      if (lifecycle[field] !== was) body[field] = lifecycle[field];
    });
    var request = editing
      ? api('PATCH', '/admin/v1/systems/' + encodeURIComponent(editing.system_id), body)
      : api('POST', '/admin/v1/systems', body);
    submitting(form, request.then(function () {
      ui.systemDialog.close();
      announce(strings.saved);
      return Promise.all([loadSystems(), loadAudit(true)]);
    }), ui.systemFormError);
  }

  /* A source link as the form writes it: `dataset:<id> <url>`, `document:<id> <url>`, or the URL alone. */
  function sourceLinkLine(link) {
    if (link.document_id) return 'document:' + link.document_id + ' ' + link.url;
    if (link.dataset_id) return 'dataset:' + link.dataset_id + ' ' + link.url;
    return link.url;
  }

  function sourceLinkOfLine(line) {
    var match = /^(dataset|document):(\S+)\s+(\S+)$/.exec(line);
    if (!match) return { url: line };
    var link = { url: match[3] };
    link[match[1] + '_id'] = match[2];
    return link;
  }

  function setEnabled(system, enabled) {
    api('PATCH', '/admin/v1/systems/' + encodeURIComponent(system.system_id), { enabled: enabled }).then(function () {
      announce(strings.saved);
      return Promise.all([loadSystems(), loadAudit(true)]);
    }).catch(function (error) { announce(error.message, true); });
  }

  function confirmDeleteSystem(system) {
    confirmThen(format(strings.confirmDeleteSystem, { system: system.system_id }), strings.delete, function () {
      api('DELETE', '/admin/v1/systems/' + encodeURIComponent(system.system_id)).then(function () {
        announce(strings.saved);
        return Promise.all([loadSystems(), loadAudit(true)]);
      }).catch(function (error) { announce(error.message, true); });
    });
  }

  /* ---- keys ---- */

  function loadKeys() {
    ui.keysTable.setAttribute('aria-busy', 'true');
    return api('GET', '/admin/v1/keys').then(json).then(function (keys) {
      state.keySystems = [].concat.apply([], keys.map(function (key) { return key.systems; }));
      suggestSystems();
      ui.keysError.textContent = '';
      ui.keysBody.replaceChildren.apply(ui.keysBody, keys.length ? keys.map(keyRow) : [emptyRow(10, strings.noKeys)]);
      ui.keysCount.textContent = String(keys.length);
    }).catch(function (error) {
      ui.keysError.textContent = format(strings.loadFailed, { detail: error.message });
    }).finally(function () { ui.keysTable.setAttribute('aria-busy', 'false'); });
  }

  function keyRow(key) {
    var status = key.revoked_at ? 'revoked' : key.expires_at && new Date(key.expires_at) <= new Date() ? 'expired' : 'active';
    var row = el('tr', status === 'active' ? '' : 'inactive');
    cell(row, strings.name, 'id').append(text(key.name));
    cell(row, strings.keyPrefix, 'mono').append(text(key.prefix ? key.prefix + '…' : '—'));
    cell(row, strings.kind).append(text(key.kind === 'browser' ? strings.kindBrowser : strings.kindServer));
    cell(row, strings.keySystems, 'mono').append(text(key.systems.length ? key.systems.join(', ') : strings.allSystems));
    cell(row, strings.source).append(el('span', 'badge', key.source === 'environment' ? strings.sourceEnvironment : strings.sourceAdmin));
    cell(row, strings.created).append(text(formatDate(key.created_at)));
    cell(row, strings.expires).append(text(key.expires_at ? formatDate(key.expires_at) : strings.never));
    cell(row, strings.lastUsed).append(text(formatDate(key.last_used_at)));
    cell(row, strings.status).append(el('span', 'badge ' + (status === 'active' ? 'on' : status), strings[status]));
    var actions = cell(row, strings.actions);
    if (key.source === 'admin' && !key.revoked_at) {
      actions.append(button(strings.revoke, function () {
        confirmThen(format(strings.confirmRevoke, { name: key.name, prefix: key.prefix }), strings.revoke, function () { revokeKey(key); });
      }, key.name));
    }
    return row;
  }

  function openKeyDialog() {
    ui.keyForm.reset();
    hideError(ui.keyFormError);
    ui.keyDialog.showModal();
    ui.keyForm.elements.name.focus();
  }

  function createKey(event) {
    event.preventDefault();
    var form = ui.keyForm;
    var body = {
      name: form.elements.name.value.trim(),
      kind: form.elements.kind.value,
      systems: splitList(form.elements.systems.value)
    };
    var expires = form.elements.expires_at.value;
    // The API takes ISO 8601 to the second.
    if (expires) body.expires_at = new Date(expires).toISOString().replace(/\.\d{3}Z$/, 'Z');
    submitting(form, api('POST', '/admin/v1/keys', body).then(json).then(function (created) {
      ui.keyDialog.close();
      ui.newKeyValue.textContent = created.key;
      ui.copyKey.textContent = strings.copy;
      ui.newKey.hidden = false;
      ui.newKey.focus();
      return Promise.all([loadKeys(), loadAudit(true)]);
    }), ui.keyFormError);
  }

  /** Copies a value shown once (a key, a secret); without the clipboard it stays selected for a manual copy. */
  function copyShown(valueNode, trigger) {
    var value = valueNode.textContent;
    var copied = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(value)
      : new Promise(function (resolve, reject) {
        var range = document.createRange();
        range.selectNodeContents(valueNode);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        if (document.execCommand('copy')) resolve(); else reject(new Error(''));
      });
    copied.then(function () {
      trigger.textContent = strings.copied;
      announce(strings.copied);
    }).catch(function () { /* the value stays selected for a manual copy */ });
  }

  /** The key leaves the page for good: it can never be shown again. */
  function dismissNewKey() {
    ui.newKeyValue.textContent = '';
    ui.newKey.hidden = true;
    ui.createKey.focus();
  }

  function revokeKey(key) {
    api('DELETE', '/admin/v1/keys/' + encodeURIComponent(key.id)).then(function () {
      announce(strings.saved);
      return Promise.all([loadKeys(), loadAudit(true)]);
    }).catch(function (error) { announce(error.message, true); });
  }

  /* ---- webhooks ---- */

  function webhookPath(endpoint, rest) {
    return '/admin/v1/webhooks/' + encodeURIComponent(endpoint.id) + (rest || '');
  }

  function loadWebhooks() {
    ui.webhooksTable.setAttribute('aria-busy', 'true');
    return api('GET', '/admin/v1/webhooks').then(json).then(function (endpoints) {
      ui.webhooksError.textContent = '';
      // The rows are drawn again: a focused button keeps the focus (the same place in its row), or the heading does.
      var focused = document.activeElement;
      var focusedRow = ui.webhooksBody.contains(focused) && focused.closest('tr');
      var place = focusedRow ? [].indexOf.call(focusedRow.querySelectorAll('button'), focused) : -1;
      ui.webhooksBody.replaceChildren.apply(ui.webhooksBody, endpoints.length ? endpoints.map(webhookRow) : [emptyRow(7, strings.noEndpoints)]);
      if (focusedRow) {
        var row = ui.webhooksBody.querySelector('tr[data-endpoint="' + CSS.escape(focusedRow.getAttribute('data-endpoint')) + '"]');
        var again = row && row.querySelectorAll('button')[place];
        (again || ui.webhooksTitle).focus();
      }
      ui.webhooksCount.textContent = String(endpoints.length);
      var open = state.deliveriesOf && endpoints.find(function (endpoint) { return endpoint.id === state.deliveriesOf.id; });
      if (state.deliveriesOf && !open) closeDeliveries(false);
      else if (open) state.deliveriesOf = open;
    }).catch(function (error) {
      ui.webhooksError.textContent = format(strings.loadFailed, { detail: error.message });
    }).finally(function () { ui.webhooksTable.setAttribute('aria-busy', 'false'); });
  }

  function webhookRow(endpoint) {
    var row = el('tr', endpoint.enabled ? '' : 'inactive');
    row.setAttribute('data-endpoint', endpoint.id);
    if (state.deliveriesOf && state.deliveriesOf.id === endpoint.id) row.classList.add('current');
    var url = stacked(cell(row, strings.endpointURL, 'url'));
    url.append(text(endpoint.url));
    if (endpoint.description) url.append(el('span', 'sub', endpoint.description));

    cell(row, strings.endpointSystem, 'mono').append(endpoint.system_id ? text(endpoint.system_id) : el('span', 'muted', strings.allSystems));

    var events = cell(row, strings.events);
    // `["*"]`: every event, types added later among them.
    if (endpoint.events && endpoint.events.length && endpoint.events.indexOf('*') < 0) {
      var list = el('ul', 'origins');
      endpoint.events.forEach(function (event) { list.append(el('li', '', event)); });
      events.append(list);
    } else {
      events.append(el('span', 'muted', strings.allEvents));
    }

    cell(row, strings.content).append(endpoint.include_content
      ? el('span', 'badge', strings.contentIncluded) : el('span', 'muted', strings.contentExcluded));

    var status = stacked(cell(row, strings.state));
    status.append(el('span', 'badge ' + (endpoint.enabled ? 'on' : 'off'), endpoint.enabled ? strings.enabled : strings.disabled));
    if (!endpoint.enabled && endpoint.disabled_reason) status.append(el('span', 'sub reason', endpoint.disabled_reason));
    if (endpoint.failing_since) status.append(el('span', 'sub failing', format(strings.failingSince, { time: formatDate(endpoint.failing_since) })));
    if (endpoint.previous_secret_expires_at && new Date(endpoint.previous_secret_expires_at) > new Date()) {
      status.append(el('span', 'sub', format(strings.oldSecretUntil, { time: formatDate(endpoint.previous_secret_expires_at) })));
    }

    var stats = endpoint.stats || {};
    var success = stacked(cell(row, strings.successRate));
    if (stats.attempts_24h) {
      var rate = typeof stats.success_rate_24h === 'number' ? stats.success_rate_24h : stats.succeeded_24h / stats.attempts_24h;
      success.append(el('span', 'rate ' + (rate >= 0.95 ? 'good' : rate >= 0.5 ? 'fair' : 'poor'), percentFormat.format(rate)));
      success.append(el('span', 'sub', format(strings.successOf, { succeeded: stats.succeeded_24h, attempts: stats.attempts_24h })));
    } else {
      success.append(el('span', 'muted', strings.noAttempts));
    }
    if (stats.pending || stats.failed) {
      success.append(el('span', 'sub', format(strings.pendingFailed, { pending: stats.pending || 0, failed: stats.failed || 0 })));
    }

    var actions = stacked(cell(row, strings.actions));
    var buttons = el('div', 'row-actions');
    var result = el('span', 'check-result');
    result.setAttribute('role', 'status');
    var deliveries = button(strings.deliveries, function () { openDeliveries(endpoint); }, endpoint.url);
    deliveries.setAttribute('data-deliveries', endpoint.id);
    deliveries.setAttribute('aria-controls', 'deliveries');
    var test = button(strings.sendTest, function () { sendTest(endpoint, test, result); }, endpoint.url);
    test.setAttribute('aria-describedby', uniqueID(result, 'webhook-result-' + endpoint.id));
    buttons.append(
      deliveries,
      test,
      button(strings.rotateSecret, function () { confirmRotate(endpoint, result); }, endpoint.url),
      button(endpoint.enabled ? strings.disable : strings.enable, function () { setWebhookEnabled(endpoint, !endpoint.enabled, result); }, endpoint.url),
      button(strings.delete, function () { confirmDeleteWebhook(endpoint, result); }, endpoint.url));
    actions.append(buttons, result);
    return row;
  }

  /** A row action's outcome, in the row (the row is drawn again after a change, so this is for what does not change it). */
  function rowResult(result, ok, message) {
    result.className = 'check-result ' + (ok ? 'ok' : 'failed');
    result.textContent = message;
  }

  /** The webhook form suggests the systems the gateway knows: its client systems and those its keys name. */
  function suggestSystems() {
    var ids = state.systems.map(function (system) { return system.system_id; }).concat(state.keySystems)
      .filter(function (id, index, all) { return id !== '*' && all.indexOf(id) === index; }).sort();
    ui.webhookSystemOptions.replaceChildren.apply(ui.webhookSystemOptions, ids.map(function (id) {
      var option = el('option');
      option.value = id;
      return option;
    }));
    // The personal data form offers the same ids; with the shared Dify app (`*`) any other id may be typed in.
    var chosen = ui.subjectSystem.value;
    var options = [option('', strings.chooseSystem)].concat(ids.map(function (id) { return option(id, id); }));
    if (state.systems.some(function (system) { return system.system_id === '*'; })) options.push(option('*', strings.otherSystem));
    ui.subjectSystem.replaceChildren.apply(ui.subjectSystem, options);
    ui.subjectSystem.value = options.some(function (item) { return item.value === chosen; }) ? chosen : '';
    showOtherSystem();
  }

  function option(value, label) {
    var node = el('option', '', label);
    node.value = value;
    return node;
  }

  function openWebhookDialog() {
    ui.webhookForm.reset();
    hideError(ui.webhookFormError);
    ui.webhookDialog.showModal();
    ui.webhookForm.elements.url.focus();
  }

  function createWebhook(event) {
    event.preventDefault();
    var form = ui.webhookForm;
    var body = {
      url: form.elements.url.value.trim(),
      system_id: form.elements.system_id.value.trim() || null,
      include_content: form.elements.include_content.checked
    };
    var events = [].filter.call(form.querySelectorAll('input[name="events"]'), function (box) { return box.checked; })
      .map(function (box) { return box.value; });
    // None checked: every event (the API's default when `events` is left out).
    if (events.length) body.events = events;
    var description = form.elements.description.value.trim();
    if (description) body.description = description;
    submitting(form, api('POST', '/admin/v1/webhooks', body).then(json).then(function (created) {
      ui.webhookDialog.close();
      showSecret(created.secret, strings.newSecretTitle, strings.secretHint);
      return Promise.all([loadWebhooks(), loadAudit(true)]);
    }), ui.webhookFormError);
  }

  /** A secret as the API gives it, this once: shown with its warning and Copy until Done. */
  function showSecret(secret, title, hint) {
    ui.newSecretTitle.textContent = title;
    ui.newSecretHint.textContent = hint;
    ui.newSecretValue.textContent = secret;
    ui.copySecret.textContent = strings.copy;
    ui.newSecret.hidden = false;
    ui.newSecret.focus();
  }

  /** The secret leaves the page for good: it can never be shown again. */
  function dismissSecret() {
    ui.newSecretValue.textContent = '';
    ui.newSecret.hidden = true;
    ui.addWebhook.focus();
  }

  function setWebhookEnabled(endpoint, enabled, result) {
    api('PATCH', webhookPath(endpoint), { enabled: enabled }).then(function () {
      announce(strings.saved);
      return Promise.all([loadWebhooks(), loadAudit(true)]);
    }).catch(function (error) { rowResult(result, false, error.message); });
  }

  function confirmDeleteWebhook(endpoint, result) {
    confirmThen(format(strings.confirmDeleteEndpoint, { url: endpoint.url }), strings.delete, function () {
      api('DELETE', webhookPath(endpoint)).then(function () {
        announce(strings.saved);
        return Promise.all([loadWebhooks(), loadAudit(true)]);
      }).catch(function (error) { rowResult(result, false, error.message); });
    });
  }

  function confirmRotate(endpoint, result) {
    confirmThen(format(strings.confirmRotate, { url: endpoint.url }), strings.rotateSecret, function () {
      api('POST', webhookPath(endpoint, '/rotate-secret')).then(json).then(function (rotated) {
        showSecret(rotated.secret, format(strings.rotatedSecretTitle, { url: endpoint.url }), strings.rotatedSecretHint);
        return Promise.all([loadWebhooks(), loadAudit(true)]);
      }).catch(function (error) { rowResult(result, false, error.message); });
    });
  }

  function sendTest(endpoint, trigger, result) {
    trigger.disabled = true;
    trigger.setAttribute('aria-busy', 'true');
    result.className = 'check-result';
    result.textContent = strings.sending;
    api('POST', webhookPath(endpoint, '/test')).then(json).then(function (sent) {
      result.textContent = '';
      var open = state.deliveriesOf && state.deliveriesOf.id === endpoint.id ? Promise.resolve() : openDeliveries(endpoint, true);
      open.then(function () {
        rowResult(ui.deliveriesResult, true, format(strings.testSent, { event: sent.event_id }));
        followDeliveries(endpoint, function () { return attemptsOf(sent.event_id) > 0; });
      });
      loadAudit(true);
    }).catch(function (error) {
      rowResult(result, false, error.message);
    }).finally(function () {
      trigger.disabled = false;
      trigger.removeAttribute('aria-busy');
    });
  }

  /* ---- an endpoint's deliveries ---- */

  /** Opens the deliveries of an endpoint under the table; `quietly` leaves the focus where it is. */
  function openDeliveries(endpoint, quietly) {
    state.deliveriesOf = endpoint;
    state.attempts = [];
    ui.deliveriesTitle.textContent = format(strings.deliveriesTitle, { url: endpoint.url });
    ui.deliveriesResult.textContent = '';
    ui.deliveriesResult.className = 'check-result';
    hideError(ui.replayFormError);
    ui.replayForm.elements.since.value = localDateTime(new Date(Date.now() - 24 * 3600 * 1000));
    ui.deliveriesBody.replaceChildren();
    ui.deliveries.hidden = false;
    ui.webhooksBody.querySelectorAll('tr').forEach(function (row) {
      row.classList.toggle('current', row.getAttribute('data-endpoint') === endpoint.id);
    });
    if (!quietly) ui.deliveriesTitle.focus();
    return loadDeliveries(true);
  }

  /** Closes the deliveries; the focus goes back to the endpoint's Deliveries button when asked or when it was inside. */
  function closeDeliveries(refocus) {
    var endpoint = state.deliveriesOf;
    refocus = refocus || ui.deliveries.contains(document.activeElement);
    state.deliveriesOf = null;
    clearTimeout(state.followTimer);
    ui.deliveries.hidden = true;
    ui.deliveriesBody.replaceChildren();
    ui.webhooksBody.querySelectorAll('tr.current').forEach(function (row) { row.classList.remove('current'); });
    if (!refocus) return;
    var back = endpoint && ui.webhooksBody.querySelector('[data-deliveries="' + CSS.escape(endpoint.id) + '"]');
    (back || ui.webhooksTitle).focus();
  }

  /** The newest attempts again (fresh), or the next page after what is shown. */
  function loadDeliveries(fresh) {
    var endpoint = state.deliveriesOf;
    if (!endpoint) return Promise.resolve();
    var query = '?limit=' + DELIVERIES_PAGE + (!fresh && state.deliveriesBefore ? '&before=' + encodeURIComponent(state.deliveriesBefore) : '');
    ui.deliveriesTable.setAttribute('aria-busy', 'true');
    return api('GET', webhookPath(endpoint, '/deliveries') + query).then(json).then(function (reply) {
      if (!state.deliveriesOf || state.deliveriesOf.id !== endpoint.id) return;
      var attempts = reply.data;
      ui.deliveriesError.textContent = '';
      // What became of a delivery shows beside its newest attempt only.
      var seen = fresh ? {} : state.attemptsSeen;
      var rows = attempts.map(function (attempt) {
        var newest = !seen[attempt.event_id];
        seen[attempt.event_id] = true;
        return deliveryRow(endpoint, attempt, newest);
      });
      state.attemptsSeen = seen;
      if (fresh) {
        // Read again while a replay goes out: a focused Replay button keeps the focus.
        var focused = document.activeElement;
        var focusedRow = ui.deliveriesBody.contains(focused) && focused.closest('tr');
        ui.deliveriesBody.replaceChildren.apply(ui.deliveriesBody, rows.length ? rows : [emptyRow(7, strings.noDeliveries)]);
        state.attempts = attempts;
        if (focusedRow) {
          var row = ui.deliveriesBody.querySelector('tr[data-attempt="' + CSS.escape(focusedRow.getAttribute('data-attempt')) + '"]');
          (row ? row.querySelector('button') : ui.deliveriesTitle).focus();
        }
      } else {
        ui.deliveriesBody.append.apply(ui.deliveriesBody, rows);
      }
      if (attempts.length) state.deliveriesBefore = attempts[attempts.length - 1].id;
      ui.deliveriesMore.hidden = attempts.length < DELIVERIES_PAGE;
    }).catch(function (error) {
      ui.deliveriesError.textContent = format(strings.loadFailed, { detail: error.message });
    }).finally(function () { ui.deliveriesTable.setAttribute('aria-busy', 'false'); });
  }

  var RESULTS = {
    success: 'resultSuccess', http_error: 'resultHttpError', redirect: 'resultRedirect', gone: 'resultGone',
    timeout: 'resultTimeout', unreachable: 'resultUnreachable', refused: 'resultRefused'
  };

  function deliveryRow(endpoint, attempt, newest) {
    var row = el('tr', '');
    row.setAttribute('data-attempt', String(attempt.id));
    cell(row, strings.at).append(text(attempt.attempted_at ? secondsFormat.format(new Date(attempt.attempted_at)) : '—'));
    var event = stacked(cell(row, strings.event, 'mono'));
    event.append(text(attempt.event_type || '—'));
    event.append(el('span', 'sub mono', attempt.event_id));
    cell(row, strings.statusCode, 'mono').append(text(attempt.status_code === null || attempt.status_code === undefined ? '—' : attempt.status_code));
    cell(row, strings.latency).append(text(typeof attempt.latency_ms === 'number' ? millisecondsFormat.format(attempt.latency_ms) : '—'));
    var outcome = stacked(cell(row, strings.result));
    outcome.append(el('span', 'badge ' + (attempt.succeeded ? 'on' : 'off'), strings[RESULTS[attempt.result]] || attempt.result));
    outcome.append(el('span', 'sub', format(strings.attemptNumber, { number: attempt.attempt })));
    if (attempt.error) outcome.append(el('span', 'sub', attempt.error));
    if (newest && !attempt.succeeded && attempt.delivery_status === 'pending') outcome.append(el('span', 'sub', strings.willRetry));
    if (newest && attempt.delivery_status === 'failed') outcome.append(el('span', 'sub failing', strings.retriesUsedUp));
    // The receiver's answer is text: shown as it came, never read as HTML.
    var response = cell(row, strings.response);
    if (attempt.response) response.append(el('pre', 'response-body', attempt.response));
    else response.append(el('span', 'muted', '—'));
    var actions = cell(row, strings.actions);
    actions.append(button(strings.replay, function () { replayEvent(endpoint, attempt); }, attempt.event_id));
    return row;
  }

  function replayEvent(endpoint, attempt) {
    var known = attemptsOf(attempt.event_id);
    api('POST', webhookPath(endpoint, '/deliveries/' + encodeURIComponent(attempt.event_id) + '/replay')).then(function () {
      rowResult(ui.deliveriesResult, true, format(strings.replayQueued, { event: attempt.event_id }));
      followDeliveries(endpoint, function () { return attemptsOf(attempt.event_id) > known; });
      loadAudit(true);
    }).catch(function (error) { rowResult(ui.deliveriesResult, false, error.message); });
  }

  function replaySince(event) {
    event.preventDefault();
    var endpoint = state.deliveriesOf;
    var value = ui.replayForm.elements.since.value;
    if (!value) {
      ui.replayFormError.textContent = strings.replaySinceRequired;
      ui.replayFormError.hidden = false;
      ui.replayForm.elements.since.focus();
      return;
    }
    // The API takes ISO 8601 to the second.
    var since = new Date(value).toISOString().replace(/\.\d{3}Z$/, 'Z');
    var newest = newestAttempt();
    ui.deliveriesResult.textContent = '';
    submitting(ui.replayForm, api('POST', webhookPath(endpoint, '/replay'), { since: since }).then(json).then(function (reply) {
      rowResult(ui.deliveriesResult, true, format(strings.replayed, { count: reply.replayed }));
      if (reply.replayed) followDeliveries(endpoint, function () { return newestAttempt() !== newest; });
      loadAudit(true);
    }), ui.replayFormError);
  }

  /**
   * Delivery happens in the background: after a test or a replay, the newest deliveries are read again every second
   * until `arrived` says the new attempt is there (or for 15 s); then the endpoints' figures are read again.
   */
  function followDeliveries(endpoint, arrived) {
    clearTimeout(state.followTimer);
    var tries = 0;
    function tick() {
      if (!state.deliveriesOf || state.deliveriesOf.id !== endpoint.id) return;
      loadDeliveries(true).then(function () {
        if (arrived() || ++tries >= 15) loadWebhooks();
        else state.followTimer = setTimeout(tick, 1000);
      });
    }
    state.followTimer = setTimeout(tick, 300);
  }

  /** How many attempts at one event the newest page shows. */
  function attemptsOf(eventID) {
    return state.attempts.filter(function (attempt) { return attempt.event_id === eventID; }).length;
  }

  function newestAttempt() { return state.attempts.length ? state.attempts[0].id : null; }

  /** A date as a datetime-local input takes it, in the browser's time zone. */
  function localDateTime(date) {
    function two(number) { return String(number).padStart(2, '0'); }
    return date.getFullYear() + '-' + two(date.getMonth() + 1) + '-' + two(date.getDate()) + 'T' +
      two(date.getHours()) + ':' + two(date.getMinutes()) + ':' + two(date.getSeconds());
  }

  /* ---- personal data: export, erasure, legal hold ---- */

  /** The form's system id (the select's, or the one typed in for the shared Dify app) and user id, or null. */
  function subject() {
    var system = ui.subjectSystem.value === '*' ? ui.subjectOtherSystem.value.trim() : ui.subjectSystem.value;
    var user = ui.subjectUser.value.trim();
    hideError(ui.subjectFormError);
    if (system && user) return { system: system, user: user };
    ui.subjectFormError.textContent = strings.subjectRequired;
    ui.subjectFormError.hidden = false;
    (system ? ui.subjectUser : ui.subjectSystem.value === '*' ? ui.subjectOtherSystem : ui.subjectSystem).focus();
    return null;
  }

  function showOtherSystem() {
    ui.subjectOtherField.hidden = ui.subjectSystem.value !== '*';
  }

  function subjectPath(who, rest) {
    return '/admin/v1/systems/' + encodeURIComponent(who.system) + '/users/' + encodeURIComponent(who.user) + rest;
  }

  /**
   * The export needs the script's header, so it is fetched, not linked: the file the server names in
   * Content-Disposition is then handed to the browser as a download.
   */
  function exportUser(event) {
    event.preventDefault();
    var who = subject();
    if (!who) return;
    var kind = ui.subjectFormat.value;
    var fallback = who.system + '-' + who.user.replace(/[^A-Za-z0-9._-]/g, '_') + '-export.' + kind;
    ui.subjectResult.className = 'check-result';
    ui.subjectResult.textContent = strings.exporting;
    ui.exportUser.setAttribute('aria-busy', 'true');
    submitting(ui.subjectForm, api('GET', subjectPath(who, '/export?format=' + kind)).then(function (response) {
      var named = /filename="?([^";]+)"?/.exec(response.headers.get('Content-Disposition') || '');
      var file = named ? named[1] : fallback;
      return response.blob().then(function (blob) {
        var link = el('a');
        link.href = URL.createObjectURL(blob);
        link.download = file;
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
        rowResult(ui.subjectResult, true, format(strings.exported, { file: file }));
      });
    }).catch(function (error) {
      ui.subjectResult.textContent = '';
      throw error;
    }).finally(function () { ui.exportUser.removeAttribute('aria-busy'); }), ui.subjectFormError);
  }

  /** An erasure cannot be undone: it starts only after the confirmation says so. */
  function confirmErasure() {
    var who = subject();
    if (!who) return;
    ui.subjectResult.textContent = '';
    confirmThen(format(strings.confirmErase, { user: who.user, system: who.system }), strings.erase, function () {
      submitting(ui.subjectForm, api('POST', subjectPath(who, '/erasure')).then(json).then(function (receipt) {
        openReceipt(receipt, ui.eraseUser);
        loadErasures();
        loadAudit(true);
      }), ui.subjectFormError);
    });
  }

  var STATUSES = { running: 'statusRunning', completed: 'statusCompleted', failed: 'statusFailed', pending: 'stepPending' };
  var STEPS = {
    refuse_new_chats: 'stepRefuseNewChats', dify: 'stepDify', gateway: 'stepGateway', ledger: 'stepLedger',
    storage: 'stepStorage', notify: 'stepNotify'
  };
  var COUNTS = {
    conversations: 'countConversations', messages: 'countMessages', turn_events: 'countTurnEvents',
    feedback: 'countFeedback', idempotency_records: 'countIdempotency', webhook_events: 'countWebhookEvents',
    files: 'countFiles', conversation_mappings: 'countMappings', users: 'countUsers',
    rate_limit_buckets: 'countRateLimits', budget_holds: 'countBudgetHolds'
  };

  function statusLabel(status) { return strings[STATUSES[status]] || status; }

  function statusBadge(status) {
    var kind = status === 'completed' ? 'on' : status === 'failed' ? 'off' : status === 'running' ? 'running' : 'pending';
    return el('span', 'badge ' + kind, statusLabel(status));
  }

  /** Shows a receipt under the form and follows it while the erasure runs; `opener` gets the focus back on Close. */
  function openReceipt(receipt, opener) {
    state.receiptOpener = opener || null;
    ui.receiptStatus.textContent = '';
    ui.receiptError.textContent = '';
    showReceipt(receipt);
    ui.receipt.hidden = false;
    ui.receipt.focus();
    ui.receipt.scrollIntoView({ block: 'nearest' });
    followReceipt(receipt);
  }

  function closeReceipt() {
    var opener = state.receiptOpener;
    state.receiptOf = null;
    clearTimeout(state.receiptTimer);
    ui.receipt.hidden = true;
    markCurrentErasure();
    (opener && document.body.contains(opener) ? opener : ui.erasuresTitle).focus();
  }

  /** Reads the receipt again every second while its erasure runs; the list and the audit log follow its end. */
  function followReceipt(receipt) {
    clearTimeout(state.receiptTimer);
    if (receipt.status !== 'running') return;
    var id = receipt.id;
    state.receiptTimer = setTimeout(function tick() {
      if (!state.receiptOf || state.receiptOf.id !== id) return;
      api('GET', '/admin/v1/erasures/' + encodeURIComponent(id)).then(json).then(function (fresh) {
        if (!state.receiptOf || state.receiptOf.id !== id) return;
        ui.receiptError.textContent = '';
        showReceipt(fresh);
        if (fresh.status === 'running') state.receiptTimer = setTimeout(tick, 1000);
        else { loadErasures(); loadAudit(true); }
      }).catch(function (error) {
        ui.receiptError.textContent = format(strings.loadFailed, { detail: error.message });
        state.receiptTimer = setTimeout(tick, 3000);
      });
    }, 700);
  }

  function showReceipt(receipt) {
    var previous = state.receiptOf;
    state.receiptOf = receipt;
    ui.receiptTitle.textContent = format(strings.receiptTitle, { id: receipt.id });
    // Announced (aria-live) when it changes only, not at every read.
    if (!previous || previous.id !== receipt.id || previous.status !== receipt.status || !ui.receiptStatus.textContent) {
      ui.receiptStatus.className = 'receipt-status ' + receipt.status;
      ui.receiptStatus.textContent = format(strings.receiptStatus, { status: statusLabel(receipt.status) });
    }

    var facts = [
      [strings.subjectSystem, receipt.system_id, 'mono'], [strings.subject, receipt.subject, 'mono'],
      [strings.requestedBy, receipt.requested_by, 'mono'], [strings.startedAt, formatSeconds(receipt.started_at)],
      [strings.finishedAt, formatSeconds(receipt.finished_at)]
    ];
    if (receipt.error) facts.push([strings.erasureError, receipt.error, 'failing']);
    if (typeof receipt.retries === 'number') facts.push([strings.retries, numberFormat.format(receipt.retries)]);
    var storage = receipt.storage;
    if (storage && storage.engine) {
      facts.push([strings.storageEngine, storage.engine, 'mono']);
      if (typeof storage.secure_delete === 'boolean') facts.push([strings.secureDelete, storage.secure_delete ? strings.on : strings.off]);
      if (storage.wal_checkpoint) facts.push([strings.walCheckpoint, storage.wal_checkpoint, 'mono']);
      if (storage.vacuumed && storage.vacuumed.length) facts.push([strings.vacuumed, storage.vacuumed.join(', '), 'mono']);
    }
    fillFacts(ui.receiptFacts, facts);

    ui.receiptSteps.replaceChildren.apply(ui.receiptSteps, (receipt.steps || []).map(function (step) {
      var item = el('li', 'step ' + step.status);
      item.append(el('span', 'step-name', strings[STEPS[step.name]] || step.name), statusBadge(step.status));
      if (step.detail) item.append(el('span', 'sub', step.detail));
      return item;
    }));

    // The kinds in a fixed order (the API's object has none), any new kind after them.
    var gateway = receipt.gateway || {};
    var kinds = Object.keys(COUNTS).filter(function (kind) { return kind in gateway; })
      .concat(Object.keys(gateway).filter(function (kind) { return !(kind in COUNTS); }).sort());
    var counts = kinds.map(function (kind) {
      return [strings[COUNTS[kind]] || kind, numberFormat.format(gateway[kind])];
    });
    if (receipt.ledger && typeof receipt.ledger.usage_rows_pseudonymized === 'number') {
      counts.push([strings.usagePseudonymized, numberFormat.format(receipt.ledger.usage_rows_pseudonymized)]);
    }
    fillFacts(ui.receiptGateway, counts);

    var apps = receipt.dify || [];
    ui.receiptDifyBody.replaceChildren.apply(ui.receiptDifyBody, apps.length ? apps.map(difyAppRow) : [emptyRow(5, strings.noDifyApps)]);
    ui.receiptKeeps.replaceChildren.apply(ui.receiptKeeps, (receipt.dify_keeps || []).map(function (kept) { return el('li', '', kept); }));
    ui.receiptVersion.textContent = format(strings.difyVersion, { version: receipt.dify_version || '—' });
    markCurrentErasure();
  }

  function difyAppRow(app) {
    var row = el('tr', '');
    cell(row, strings.difyApp, 'mono').append(text(app.app));
    cell(row, strings.found).append(text(numberFormat.format(app.conversations_found || 0)));
    cell(row, strings.deletedCount).append(text(numberFormat.format(app.conversations_deleted || 0)));
    cell(row, strings.confirmedGone).append(el('span', 'badge ' + (app.confirmed_gone ? 'on' : 'off'),
      app.confirmed_gone ? strings.confirmedYes : strings.confirmedNo));
    cell(row, strings.retries).append(text(numberFormat.format(app.retries || 0)));
    return row;
  }

  /** A definition list of [term, value, class] pairs. */
  function fillFacts(list, pairs) {
    list.replaceChildren();
    pairs.forEach(function (pair) {
      var group = el('div', 'fact');
      group.append(el('dt', '', pair[0]), el('dd', pair[2] || '', pair[1]));
      list.append(group);
    });
  }

  function formatSeconds(value) { return value ? secondsFormat.format(new Date(value)) : '—'; }

  function loadErasures() {
    ui.erasuresTable.setAttribute('aria-busy', 'true');
    return api('GET', '/admin/v1/erasures?limit=' + ERASURES_PAGE).then(json).then(function (reply) {
      var erasures = reply.data || [];
      ui.erasuresError.textContent = '';
      ui.erasuresBody.replaceChildren.apply(ui.erasuresBody, erasures.length ? erasures.map(erasureRow) : [emptyRow(7, strings.noErasures)]);
      markCurrentErasure();
    }).catch(function (error) {
      ui.erasuresError.textContent = format(strings.loadFailed, { detail: error.message });
    }).finally(function () { ui.erasuresTable.setAttribute('aria-busy', 'false'); });
  }

  function erasureRow(receipt) {
    var row = el('tr', '');
    row.setAttribute('data-erasure', receipt.id);
    var started = stacked(cell(row, strings.startedAt));
    started.append(text(formatDate(receipt.started_at)));
    started.append(el('span', 'sub mono', receipt.id));
    cell(row, strings.subjectSystem, 'mono').append(text(receipt.system_id));
    cell(row, strings.subject, 'mono subject').append(text(receipt.subject));
    cell(row, strings.status).append(statusBadge(receipt.status));
    var gateway = receipt.gateway || {};
    cell(row, strings.deletedCount).append(text(format(strings.deletedSummary, {
      conversations: numberFormat.format(gateway.conversations || 0), messages: numberFormat.format(gateway.messages || 0),
      dify: numberFormat.format(receipt.dify_conversations_deleted || 0)
    })));
    cell(row, strings.requestedBy, 'mono').append(text(receipt.requested_by));
    var show = button(strings.showReceipt, function () { openReceipt(receipt, show); }, receipt.id);
    show.setAttribute('aria-controls', 'receipt');
    cell(row, strings.actions).append(show);
    return row;
  }

  function markCurrentErasure() {
    var shown = state.receiptOf && !ui.receipt.hidden ? state.receiptOf.id : null;
    ui.erasuresBody.querySelectorAll('tr[data-erasure]').forEach(function (row) {
      row.classList.toggle('current', row.getAttribute('data-erasure') === shown);
    });
  }

  /** GET shows a conversation's hold, PUT places it (with the reason, if any), DELETE releases it. */
  function legalHold(method) {
    var conversation = ui.holdConversation.value.trim();
    hideError(ui.holdFormError);
    if (!conversation) {
      ui.holdFormError.textContent = strings.conversationRequired;
      ui.holdFormError.hidden = false;
      ui.holdConversation.focus();
      return;
    }
    var reason = ui.holdReason.value.trim();
    var body = method === 'PUT' && reason ? { reason: reason } : undefined;
    var path = '/admin/v1/conversations/' + encodeURIComponent(conversation) + '/legal-hold';
    submitting(ui.holdForm, api(method, path, body).then(json).then(function (hold) {
      showHold(hold || { conversation_id: conversation, legal_hold: false });
      if (method !== 'GET') loadAudit(true);
    }).catch(function (error) {
      ui.holdState.replaceChildren();
      throw error;
    }), ui.holdFormError);
  }

  function showHold(hold) {
    var line = el('p', 'hold-line');
    line.append(el('span', 'badge ' + (hold.legal_hold ? 'held' : 'pending'), hold.legal_hold ? strings.holdOn : strings.holdOff),
      el('span', 'mono', hold.conversation_id));
    var parts = [line];
    if (hold.legal_hold && hold.held_at) parts.push(el('p', 'sub', format(strings.holdSince, { time: formatSeconds(hold.held_at) })));
    if (hold.legal_hold && hold.reason) parts.push(el('p', 'sub', format(strings.holdReasonValue, { reason: hold.reason })));
    ui.holdState.replaceChildren.apply(ui.holdState, parts);
  }

  /* ---- audit ---- */

  /** The first page again (fresh), or the next page after what is shown. */
  function loadAudit(fresh) {
    var query = '?limit=' + AUDIT_PAGE + (!fresh && state.auditCursor ? '&cursor=' + encodeURIComponent(state.auditCursor) : '');
    ui.auditTable.setAttribute('aria-busy', 'true');
    return api('GET', '/admin/v1/audit' + query).then(function (response) {
      state.auditCursor = response.headers.get('X-Next-Cursor');
      return response.json();
    }).then(function (entries) {
      ui.auditError.textContent = '';
      var rows = entries.map(auditRow);
      if (fresh) ui.auditBody.replaceChildren.apply(ui.auditBody, rows.length ? rows : [emptyRow(5, strings.noAudit)]);
      else ui.auditBody.append.apply(ui.auditBody, rows);
      ui.auditMore.hidden = !state.auditCursor;
    }).catch(function (error) {
      ui.auditError.textContent = format(strings.loadFailed, { detail: error.message });
    }).finally(function () { ui.auditTable.setAttribute('aria-busy', 'false'); });
  }

  function auditRow(entry) {
    var row = el('tr', '');
    cell(row, strings.at).append(text(formatDate(entry.at)));
    cell(row, strings.actor, 'mono').append(text(entry.actor));
    cell(row, strings.action, 'mono').append(text(entry.action));
    cell(row, strings.target, 'mono').append(text(entry.target));
    cell(row, strings.detail).append(text(entry.detail));
    return row;
  }

  /* ---- shared pieces ---- */

  function confirmThen(message, label, action) {
    ui.confirmText.textContent = message;
    document.getElementById('confirm-button').textContent = label;
    state.confirmAction = action;
    ui.confirmDialog.showModal();
  }

  /** Runs a form's request with its buttons disabled, showing the server's reason in the form on failure. */
  function submitting(form, request, errorBox) {
    var buttons = form.querySelectorAll('button');
    buttons.forEach(function (b) { b.disabled = true; });
    hideError(errorBox);
    request.catch(function (error) {
      errorBox.textContent = error.message;
      errorBox.hidden = false;
      // A tall dialog may have scrolled the reason out of sight.
      errorBox.scrollIntoView({ block: 'nearest' });
    }).finally(function () { buttons.forEach(function (b) { b.disabled = false; }); });
  }

  function hideError(box) {
    box.textContent = '';
    box.hidden = true;
  }

  function announce(message, isError) {
    ui.status.className = 'sync-status' + (isError ? ' error' : '');
    ui.status.textContent = message;
  }

  function splitList(value) {
    return value.split(/[\s,]+/).map(function (item) { return item.trim(); }).filter(Boolean);
  }

  function hostOf(url) {
    try { return new URL(url).host; } catch (error) { return url; }
  }

  function formatDate(value) { return value ? dateFormat.format(new Date(value)) : '—'; }

  function format(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (match, name) {
      return values[name] === undefined || values[name] === null ? match : String(values[name]);
    });
  }

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function text(value) { return document.createTextNode(value === undefined || value === null ? '' : String(value)); }

  /** A cell labelled with its column's name, which narrow screens show beside the value. */
  function cell(row, label, className) {
    var td = el('td', className || '');
    td.setAttribute('data-label', label);
    row.append(td);
    return td;
  }

  /** A box for a cell's several lines, so that a narrow screen shows them stacked beside the column's name. */
  function stacked(td) {
    var box = el('div', 'stack');
    td.append(box);
    return box;
  }

  /** A small button; `about` names the row it acts on, for screen readers ("Delete drillquiz"). */
  function button(label, onClick, about) {
    var node = el('button', 'button small', label);
    node.type = 'button';
    if (about) node.setAttribute('aria-label', label + ' ' + about);
    node.addEventListener('click', onClick);
    return node;
  }

  function emptyRow(columns, message) {
    var row = el('tr', 'empty-row');
    var td = el('td', '', message);
    td.colSpan = columns;
    row.append(td);
    return row;
  }

  function uniqueID(node, base) {
    node.id = base.replace(/[^A-Za-z0-9_-]/g, '_');
    return node.id;
  }
})();
