/*
 * The operators' history page (GET /cache, signed in). The server renders the shell and the filters (pre-filled
 * from the URL); this script reads /v1/cache/... with the page's session cookie (credentials: 'same-origin'),
 * fills the table page by page, opens a conversation beside it, keeps the export links on the current
 * filters and runs "sync now". An answer shows its sources (collapsed) and, when the question was asked again,
 * which attempt it is. Everything from the database goes in as text or through ChatMarkdown, which builds DOM
 * nodes: nothing received is ever parsed as HTML, and only http(s) addresses become links.
 */
(function () {
  'use strict';

  var root = document.documentElement;
  var strings = JSON.parse(root.getAttribute('data-strings') || '{}');
  var language = root.getAttribute('lang') || 'en';
  var PAGE_SIZE = 25;
  var FILTERS = ['system_id', 'user_id', 'from_date', 'to_date', 'q'];
  var STATUS_LABELS = { failed: 'statusFailed', stopped: 'statusStopped', streaming: 'statusStreaming', pending: 'statusPending', refused: 'statusRefused' };
  var dateFormat = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' });
  var scoreFormat = new Intl.NumberFormat(language, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

  var ui = {};
  var state = {
    filters: {},
    // The cursor each visited page started from (null: the first); "previous" pops, "next" pushes.
    cursors: [null],
    next: null,
    // Only the answer to the latest listing request is shown.
    listing: 0,
    open: null,
    trigger: null
  };

  document.addEventListener('DOMContentLoaded', start);

  function start() {
    ['filters', 'pager', 'results-body', 'results-table', 'result-count', 'load-error', 'previous-page', 'next-page', 'page-number',
      'export-csv', 'export-jsonl', 'sync-button', 'sync-status', 'detail', 'detail-title', 'detail-meta', 'detail-messages',
      'detail-close'].forEach(function (id) {
      ui[id.replace(/-([a-z])/g, function (_, letter) { return letter.toUpperCase(); })] = document.getElementById(id);
    });
    state.filters = readFilters();
    ui.filters.addEventListener('submit', function (event) {
      event.preventDefault();
      applyFilters();
    });
    // The inputs' default values are the URL's filters; "clear" means empty, not "as loaded".
    ui.filters.addEventListener('reset', function (event) {
      event.preventDefault();
      FILTERS.forEach(function (name) { ui.filters.elements[name].value = ''; });
      applyFilters();
    });
    ui.previousPage.addEventListener('click', function () {
      if (state.cursors.length > 1) { state.cursors.pop(); loadPage(); }
    });
    ui.nextPage.addEventListener('click', function () {
      if (state.next) { state.cursors.push(state.next); loadPage(); }
    });
    ui.syncButton.addEventListener('click', syncNow);
    ui.detailClose.addEventListener('click', closeConversation);
    document.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && state.open) closeConversation();
    });
    updateExportLinks();
    loadPage();
  }

  /* ---- the API ---- */

  /** fetch with the session cookie; a 401 means the session ended, so the server's sign-in form takes over. */
  function api(path, options) {
    var init = Object.assign({ credentials: 'same-origin' }, options || {});
    init.headers = Object.assign({ Accept: 'application/json' }, init.headers || {});
    return fetch(path, init).then(function (response) {
      if (response.status === 401) {
        window.location.assign(pageURL());
        throw new Error('');
      }
      if (!response.ok) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          throw new Error(typeof body.detail === 'string' ? body.detail : '');
        });
      }
      return response;
    });
  }

  function filterQuery() {
    var query = new URLSearchParams();
    FILTERS.forEach(function (name) { if (state.filters[name]) query.set(name, state.filters[name]); });
    return query;
  }

  /* ---- filters ---- */

  function readFilters() {
    var filters = {};
    FILTERS.forEach(function (name) {
      var value = ui.filters.elements[name].value.trim();
      if (value) filters[name] = value;
    });
    return filters;
  }

  function applyFilters() {
    state.filters = readFilters();
    state.cursors = [null];
    closeConversation();
    history.replaceState(null, '', pageURL());
    updateExportLinks();
    loadPage();
  }

  /** This page with the current filters (and the language the server chose), for the address bar and a new sign-in. */
  function pageURL() {
    var query = filterQuery();
    var lang = new URLSearchParams(window.location.search).get('lang');
    if (lang) query.set('lang', lang);
    var text = query.toString();
    return '/cache' + (text ? '?' + text : '');
  }

  /* Plain links: the browser downloads with the session cookie, and the server streams the file. */
  function updateExportLinks() {
    [['csv', ui.exportCsv], ['jsonl', ui.exportJsonl]].forEach(function (pair) {
      var query = filterQuery();
      query.set('format', pair[0]);
      pair[1].href = '/v1/cache/export?' + query.toString();
    });
  }

  /* ---- the table ---- */

  function loadPage() {
    var request = ++state.listing;
    var query = filterQuery();
    var cursor = state.cursors[state.cursors.length - 1];
    query.set('limit', String(PAGE_SIZE));
    if (cursor) query.set('cursor', cursor);
    ui.resultsTable.setAttribute('aria-busy', 'true');
    ui.previousPage.disabled = true;
    ui.nextPage.disabled = true;
    ui.loadError.textContent = '';
    api('/v1/cache/conversations?' + query.toString()).then(function (response) {
      return response.json().then(function (rows) {
        return { rows: rows, total: Number(response.headers.get('X-Total-Count') || rows.length), next: response.headers.get('X-Next-Cursor') };
      });
    }).then(function (page) {
      if (request !== state.listing) return;
      state.next = page.next;
      renderRows(page.rows);
      renderPager(page.rows.length, page.total);
    }).catch(function (error) {
      if (request !== state.listing) return;
      ui.resultsBody.replaceChildren();
      ui.resultCount.textContent = '';
      ui.loadError.textContent = failure(strings.loadFailed, error);
      ui.previousPage.disabled = state.cursors.length < 2;
    }).finally(function () {
      if (request === state.listing) ui.resultsTable.setAttribute('aria-busy', 'false');
    });
  }

  function renderRows(rows) {
    ui.resultsBody.replaceChildren.apply(ui.resultsBody, rows.map(row));
    if (!rows.length) {
      var empty = el('tr', 'empty-row');
      var cell = el('td', '', strings.noResults);
      cell.colSpan = 5;
      empty.appendChild(cell);
      ui.resultsBody.appendChild(empty);
    }
  }

  function row(conversation) {
    var tr = el('tr');
    tr.dataset.id = conversation.conversation_id;
    if (state.open && state.open.conversation_id === conversation.conversation_id) tr.classList.add('current');
    var open = el('button', 'conversation-open', conversation.name || strings.untitled);
    open.type = 'button';
    if (!conversation.name) open.classList.add('untitled');
    open.addEventListener('click', function () { openConversation(conversation, open); });
    var name = cell(strings.conversation, open);
    if (conversation.deleted_at) name.appendChild(el('span', 'badge', strings.deleted));
    tr.append(name, cell(strings.system, conversation.system_id), cell(strings.user, conversation.user_id),
      cell(strings.created, time(conversation.created_at)), cell(strings.updated, time(conversation.updated_at)));
    // The whole row answers a click, for the mouse; the button is what the keyboard and screen readers use.
    tr.addEventListener('click', function (event) {
      if (event.target.closest('button') === null && !window.getSelection().toString()) open.click();
    });
    return tr;
  }

  /** A cell labelled with its column's name, which the phone layout shows in place of the table header. */
  function cell(label, content) {
    var td = el('td');
    td.dataset.label = label;
    if (typeof content === 'string') td.textContent = content; else td.appendChild(content);
    return td;
  }

  function time(iso) {
    var node = el('time', '', formatDate(iso));
    node.dateTime = iso;
    return node;
  }

  function formatDate(iso) {
    var date = new Date(iso);
    return isNaN(date) ? iso : dateFormat.format(date);
  }

  function renderPager(count, total) {
    var first = (state.cursors.length - 1) * PAGE_SIZE + 1;
    ui.resultCount.textContent = count ? fill(strings.range, { first: first, last: first + count - 1, total: total }) : '';
    ui.pageNumber.textContent = total > PAGE_SIZE ? (state.cursors.length + ' / ' + Math.ceil(total / PAGE_SIZE)) : '';
    ui.previousPage.disabled = state.cursors.length < 2;
    ui.nextPage.disabled = !state.next;
    // One page needs no paging controls.
    ui.pager.hidden = ui.previousPage.disabled && ui.nextPage.disabled;
  }

  /* ---- one conversation ---- */

  function openConversation(conversation, trigger) {
    state.open = conversation;
    state.trigger = trigger;
    markCurrentRow();
    ui.detail.hidden = false;
    root.classList.add('detail-open');
    ui.detailTitle.textContent = conversation.name || strings.untitled;
    ui.detailMeta.textContent = [conversation.system_id, conversation.user_id, formatDate(conversation.created_at)].join(' · ');
    ui.detailMessages.setAttribute('aria-busy', 'true');
    ui.detailMessages.replaceChildren(el('p', 'notice', strings.loading));
    ui.detailTitle.focus();
    api('/v1/cache/conversations/' + encodeURIComponent(conversation.conversation_id) + '/messages').then(function (response) {
      return response.json();
    }).then(function (messages) {
      if (state.open !== conversation) return;
      var numbers = attemptNumbers(messages);
      ui.detailMessages.replaceChildren.apply(ui.detailMessages, messages.map(function (stored) {
        return message(stored, numbers[difyID(stored.message_id)]);
      }));
      if (!messages.length) ui.detailMessages.appendChild(el('p', 'notice', strings.noMessages));
    }).catch(function (error) {
      if (state.open === conversation) ui.detailMessages.replaceChildren(el('p', 'notice error', failure(strings.loadFailed, error)));
    }).finally(function () {
      if (state.open === conversation) ui.detailMessages.setAttribute('aria-busy', 'false');
    });
  }

  /**
   * One stored message. `attempt` ({n, total}) marks a question asked again (regenerated): its answer is one of
   * `total` attempts, and a repeated question says so. An answer lists its sources and both sides their files.
   */
  function message(stored, attempt) {
    var isUser = stored.role === 'user';
    var article = el('article', 'history-message role-' + (isUser ? 'user' : 'assistant'));
    var head = el('header', 'history-message-head');
    head.append(el('span', 'role', isUser ? strings.roleUser : strings.roleAssistant), time(stored.created_at));
    if (STATUS_LABELS[stored.status]) head.appendChild(el('span', 'badge status-' + stored.status, strings[STATUS_LABELS[stored.status]]));
    if (attempt && isUser && stored.regenerates) {
      article.classList.add('repeat');
      head.appendChild(el('span', 'badge attempt', strings.askedAgain));
    }
    if (attempt && !isUser) head.appendChild(el('span', 'badge attempt', fill(strings.attempt, attempt)));
    var content = el('div', 'markdown history-message-content');
    content.appendChild(window.ChatMarkdown.render(stored.content, { strings: strings }));
    article.append(head, content);
    var files = (stored.files || []).filter(function (file) { return file && typeof file === 'object'; });
    if (files.length) article.appendChild(fileList(files));
    var sources = (stored.retriever_resources || []).filter(function (source) { return source && typeof source === 'object'; });
    if (!isUser && sources.length) article.appendChild(sourceList(sources));
    return article;
  }

  /** Dify's message id of a stored row (`<id>_user`, `<id>_assistant`): the id `regenerates` names. */
  function difyID(messageID) {
    return String(messageID).replace(/_(user|assistant)$/, '');
  }

  /**
   * Dify id → {n, total} for every turn of a question asked more than once. A repeat's user row names the first
   * attempt in `regenerates`; the first attempt itself may be on an earlier page of Dify's history, and still counts.
   */
  function attemptNumbers(messages) {
    var groups = {};
    messages.forEach(function (stored) {
      if (stored.role !== 'user') return;
      var id = difyID(stored.message_id);
      var first = stored.regenerates || id;
      (groups[first] = groups[first] || []).push(id);
    });
    var numbers = {};
    Object.keys(groups).forEach(function (first) {
      var ids = groups[first];
      var offset = ids[0] === first ? 0 : 1;
      var total = ids.length + offset;
      if (total < 2) return;
      ids.forEach(function (id, index) { numbers[id] = { n: index + 1 + offset, total: total }; });
    });
    return numbers;
  }

  /** The sources an answer was built from, collapsed: document (linked when the system maps it), dataset, score, quote. */
  function sourceList(sources) {
    var details = el('details', 'history-sources');
    details.appendChild(el('summary', '', fill(strings.sources, { count: sources.length })));
    var list = el('ol', 'history-source-list');
    sources.forEach(function (source) {
      var item = el('li', 'history-source');
      var head = el('div', 'history-source-head');
      var name = text(source.document_name) || text(source.dataset_name) || '?';
      var url = safeURL(source.url);
      var title = url ? el('a', 'history-source-name', name) : el('span', 'history-source-name', name);
      if (url) { title.href = url; title.target = '_blank'; title.rel = 'noopener noreferrer'; }
      head.appendChild(title);
      if (text(source.dataset_name) && text(source.document_name)) head.appendChild(el('span', 'history-source-dataset', source.dataset_name));
      if (typeof source.score === 'number' && isFinite(source.score)) {
        head.appendChild(el('span', 'badge history-source-score', fill(strings.sourceScore, { score: scoreFormat.format(source.score) })));
      }
      item.appendChild(head);
      if (text(source.content)) item.appendChild(el('blockquote', 'history-source-quote', source.content));
      list.appendChild(item);
    });
    details.appendChild(list);
    return details;
  }

  /** A message's files: a link for a web address, the name alone otherwise. */
  function fileList(files) {
    var list = el('ul', 'history-files');
    list.setAttribute('aria-label', strings.files);
    files.forEach(function (file) {
      var name = text(file.filename) || text(file.name) || text(file.url) || text(file.upload_file_id) || text(file.id) || '?';
      var label = name + (text(file.type) ? ' (' + file.type + ')' : '');
      var url = safeURL(file.url);
      var item = el('li', 'history-file');
      var node = url ? el('a', '', label) : el('span', '', label);
      if (url) { node.href = url; node.target = '_blank'; node.rel = 'noopener noreferrer'; }
      item.appendChild(node);
      list.appendChild(item);
    });
    return list;
  }

  function text(value) {
    return typeof value === 'string' ? value.trim() : '';
  }

  /** Only http(s) addresses become links: a stored `javascript:` or `data:` URL stays inert. */
  function safeURL(value) {
    if (!text(value)) return '';
    try {
      var url = new URL(value, window.location.href);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : '';
    } catch (error) {
      return '';
    }
  }

  function closeConversation() {
    if (!state.open) return;
    state.open = null;
    ui.detail.hidden = true;
    root.classList.remove('detail-open');
    markCurrentRow();
    // Back to where the operator was, if that row is still shown.
    if (state.trigger && state.trigger.isConnected) state.trigger.focus();
    state.trigger = null;
  }

  function markCurrentRow() {
    Array.prototype.forEach.call(ui.resultsBody.rows, function (tr) {
      var current = Boolean(state.open) && tr.dataset.id === state.open.conversation_id;
      tr.classList.toggle('current', current);
      var button = tr.querySelector('.conversation-open');
      if (button) {
        if (current) button.setAttribute('aria-current', 'true'); else button.removeAttribute('aria-current');
      }
    });
  }

  /* ---- sync now ---- */

  function syncNow() {
    ui.syncButton.disabled = true;
    ui.syncButton.setAttribute('aria-busy', 'true');
    showSync(strings.syncing, 'busy');
    // The session cookie authorizes the call; the header is what a cross-site form could never send.
    api('/v1/sync', { method: 'POST', headers: { 'X-Requested-With': 'fetch' } }).then(function (response) {
      return response.json();
    }).then(function (report) {
      var text = fill(strings.syncDone, {
        users: report.users, conversations: report.conversations_synced, messages: report.messages_synced
      });
      var errors = (report.errors || []).length;
      showSync(errors ? text + ' ' + fill(strings.syncErrors, { count: errors }) : text, errors ? 'warning' : 'done');
      loadPage();
    }).catch(function (error) {
      showSync(failure(strings.syncFailed, error), 'error');
    }).finally(function () {
      ui.syncButton.disabled = false;
      ui.syncButton.removeAttribute('aria-busy');
    });
  }

  function showSync(text, kind) {
    ui.syncStatus.textContent = text;
    ui.syncStatus.className = 'sync-status ' + kind;
  }

  /* ---- helpers ---- */

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** What went wrong, in the page's language, followed by the server's reason when it gave one. */
  function failure(summary, error) {
    return error && error.message ? summary + ' ' + error.message : summary;
  }

  /** "{name}" placeholders filled in; the values are numbers or text, and the result is only ever textContent. */
  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (match, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : match;
    });
  }
})();
