/*
 * The admin console (GET /admin, signed in). The server renders the shell, the dialogs and the texts; this
 * script calls /admin/v1/... with the console's session cookie and X-Requested-With (which no cross-site form can
 * send), fills the systems, keys and audit tables, and runs their actions. Everything received goes into the page
 * as text: nothing from the API is ever parsed as HTML.
 */
(function () {
  'use strict';

  var root = document.documentElement;
  var strings = JSON.parse(root.getAttribute('data-strings') || '{}');
  var language = root.getAttribute('lang') || 'en';
  var dateFormat = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' });
  var AUDIT_PAGE = 50;

  var ui = {};
  var state = { systems: [], editing: null, auditCursor: null, confirmAction: null };

  document.addEventListener('DOMContentLoaded', start);

  function start() {
    ['status', 'systems-body', 'systems-table', 'systems-count', 'systems-error', 'add-system', 'keys-body', 'keys-table',
      'keys-count', 'keys-error', 'create-key', 'new-key', 'new-key-value', 'copy-key', 'dismiss-key', 'audit-body',
      'audit-table', 'audit-error', 'audit-more', 'system-dialog', 'system-dialog-title', 'system-form', 'system-form-error',
      'key-dialog', 'key-form', 'key-form-error', 'confirm-dialog', 'confirm-text'].forEach(function (id) {
      ui[id.replace(/-([a-z])/g, function (_, letter) { return letter.toUpperCase(); })] = document.getElementById(id);
    });
    ui.addSystem.addEventListener('click', function () { openSystemDialog(null); });
    ui.createKey.addEventListener('click', openKeyDialog);
    ui.systemForm.addEventListener('submit', saveSystem);
    ui.keyForm.addEventListener('submit', createKey);
    ui.copyKey.addEventListener('click', copyNewKey);
    ui.dismissKey.addEventListener('click', dismissNewKey);
    ui.auditMore.addEventListener('click', function () { loadAudit(false); });
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
          throw new Error(typeof reply.detail === 'string' ? reply.detail : 'HTTP ' + response.status);
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
      ui.systemsError.textContent = '';
      ui.systemsBody.replaceChildren.apply(ui.systemsBody, systems.length ? systems.map(systemRow) : [emptyRow(7, strings.noSystems)]);
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
      rate_limit_per_user: form.elements.rate_limit_per_user.value.trim(),
      openai_model: form.elements.openai_model.value.trim(),
      source_links: form.elements.source_links.value.split('\n').map(function (line) { return line.trim(); })
        .filter(Boolean).map(sourceLinkOfLine),
      inline_math: form.elements.inline_math.checked
    };
    var key = form.elements.dify_api_key.value.trim();
    if (key) body.dify_api_key = key;
    var streams = form.elements.max_streams_per_user.value.trim();
    if (streams) body.max_streams_per_user = Number(streams);
    if (!editing) body.system_id = form.elements.system_id.value.trim();
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

  function copyNewKey() {
    var value = ui.newKeyValue.textContent;
    var copied = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(value)
      : new Promise(function (resolve, reject) {
        var range = document.createRange();
        range.selectNodeContents(ui.newKeyValue);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        if (document.execCommand('copy')) resolve(); else reject(new Error(''));
      });
    copied.then(function () {
      ui.copyKey.textContent = strings.copied;
      announce(strings.copied);
    }).catch(function () { /* the key stays selected for a manual copy */ });
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
