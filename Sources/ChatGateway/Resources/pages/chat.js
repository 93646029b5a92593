/*
 * The chat page. Loaded in <head> (not deferred) so it can decide before the first paint whether a
 * kept session replaces the server's "no token" error; the app itself starts on DOMContentLoaded.
 *
 * The server puts what the script needs on <html>: data-mode (full|embed), data-strings (the page's texts),
 * and either data-token/-system/-user (a verified token) or data-refusal (why the URL's token was refused).
 * The token moves to sessionStorage at once and leaves the address bar, so a reload of the page
 * (which reaches the server without it) resumes from sessionStorage.
 */
(function () {
  'use strict';

  var root = document.documentElement;
  var SESSION_KEY = 'chat-gateway.session';
  var strings = JSON.parse(root.getAttribute('data-strings') || '{}');
  var mode = root.getAttribute('data-mode') === 'embed' ? 'embed' : 'full';
  var language = root.getAttribute('lang') || 'en';
  var refusal = root.getAttribute('data-refusal');
  var session = takeSession();

  dropTokenFromAddressBar();
  root.classList.add('mode-' + mode);
  if (session) root.classList.add('has-session');
  document.addEventListener('DOMContentLoaded', function () {
    if (session) startApp(); else showError(refusal || 'missing');
  });

  /* ---- session: the token from the page, or the one kept from an earlier load ---- */

  function takeSession() {
    var token = root.getAttribute('data-token');
    root.removeAttribute('data-token');
    if (token) {
      var fresh = { token: token, system: root.getAttribute('data-system'), user: root.getAttribute('data-user') };
      try { sessionStorage.setItem(SESSION_KEY, JSON.stringify(fresh)); } catch (e) { /* private mode: this load still works */ }
      return fresh;
    }
    // A token in the URL that the server refused wins over a kept one: the user asked for that link.
    if (refusal && refusal !== 'missing') return null;
    var kept = null;
    try { kept = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null'); } catch (e) { kept = null; }
    if (!kept || !kept.token) return null;
    if (!tokenIsCurrent(kept.token)) {
      refusal = 'expired';
      try { sessionStorage.removeItem(SESSION_KEY); } catch (e) { /* nothing kept */ }
      return null;
    }
    return kept;
  }

  /* Only the expiry is read here; the server verifies the signature on every call. */
  function tokenIsCurrent(token) {
    try {
      var payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      var claims = JSON.parse(atob(payload + '==='.slice((payload.length + 3) % 4)));
      return typeof claims.exp === 'number' && claims.exp * 1000 > Date.now() + 5000;
    } catch (e) {
      return false;
    }
  }

  function dropTokenFromAddressBar() {
    if (!/[?&]token=/.test(location.search)) return;
    var params = new URLSearchParams(location.search);
    params.delete('token');
    var query = params.toString();
    history.replaceState(history.state, '', location.pathname + (query ? '?' + query : '') + location.hash);
  }

  function showError(kind) {
    var key = { expired: 'errorExpired', invalid: 'errorInvalid', forbidden: 'errorForbidden' }[kind] || 'errorMissing';
    root.classList.remove('has-session');
    byId('app').hidden = true;
    byId('error-text').textContent = strings[key];
    byId('error-page').hidden = false;
  }

  function byId(id) { return document.getElementById(id); }

  /* ---- the app ---- */

  var ICONS = {
    pencil: 'M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4',
    trash: 'M5 7h14M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3',
    thumbUp: 'M7 11v9H4v-9h3zm0 0l4-7c1.5 0 2.5 1 2.2 2.6L12.6 10H18a2 2 0 0 1 2 2.3l-1.2 6A2 2 0 0 1 16.8 20H7',
    thumbDown: 'M17 13V4h3v9h-3zm0 0l-4 7c-1.5 0-2.5-1-2.2-2.6l.6-3.4H6a2 2 0 0 1-2-2.3l1.2-6A2 2 0 0 1 7.2 4H17',
    retry: 'M4 12a8 8 0 1 0 2.4-5.7M4 4v4h4',
    copy: 'M9 9h10v11H9zM5 15V4h10',
    check: 'M5 12.5l4.5 4.5L19 7',
    spark: 'M12 3l1.8 5.2L19 10l-5.2 1.8L12 17l-1.8-5.2L5 10l5.2-1.8z',
  };

  var ui = {};
  var state = {
    conversations: [],
    currentId: null,
    busy: false,
    turn: null,        // the answer being streamed or attached to (see beginTurn)
    composing: false,  // an IME composition is open: Enter belongs to it
    editing: null,     // {id, kind: 'rename'|'delete'}
    loadSeq: 0,
  };
  var conversationKey = 'chat-gateway.conversation.' + (session && session.system) + '.' + (session && session.user);
  // The turns this tab streams, by conversation ('' for a new one not named yet), so a reload finds them again.
  var turnsKey = 'chat-gateway.turns.' + (session && session.system) + '.' + (session && session.user);
  var channel = null;  // BroadcastChannel to the user's other tabs: a turn started or ended

  function startApp() {
    ['app', 'sidebar', 'scrim', 'menu-button', 'chat-title', 'messages', 'announcer', 'composer', 'composer-input',
      'send-button', 'stop-button', 'conversation-list', 'list-status', 'empty-state'].forEach(function (id) {
      ui[id.replace(/-(\w)/g, function (_, c) { return c.toUpperCase(); })] = byId(id);
    });
    byId('error-page').hidden = true;
    ui.app.hidden = false;
    bindComposer();
    bindNavigation();
    openChannel();
    window.addEventListener('pagehide', function () { if (state.turn) keepTurn(state.turn); });
    window.addEventListener('online', reconnectNow);
    var pending = keptTurns()[''];
    var remembered = rememberedConversation();
    if (pending) resumeNewConversation(pending);
    else if (remembered) openConversation(remembered); else showEmpty();
    // Embedded there is no list to show, but the header still names the open conversation.
    loadConversations();
    updateControls();
    ui.composerInput.focus({ preventScroll: true });
  }

  /* ---- calls to the gateway's API, as the token's user ---- */

  function api(method, path, body, signal) {
    var headers = { Authorization: 'Bearer ' + session.token, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(path, {
      method: method, headers: headers, signal: signal, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      if (response.ok) return response.status === 204 ? null : response.json();
      return failure(response);
    });
  }

  /* A refused token ends the session (its page says why); any other error carries the API's detail. */
  function failure(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      if (response.status === 401) {
        try { sessionStorage.removeItem(SESSION_KEY); } catch (e) { /* nothing kept */ }
        showError(tokenIsCurrent(session.token) ? 'invalid' : 'expired');
      }
      var error = new Error(body.detail || response.statusText || String(response.status));
      error.status = response.status;
      error.budgetResets = response.headers.get('X-Budget-Resets');
      throw error;
    });
  }

  /* ---- conversation list (full mode) ---- */

  function loadConversations() {
    return api('GET', '/v1/conversations').then(function (list) {
      state.conversations = list;
      ui.listStatus.textContent = '';
      renderConversationList();
      updateTitle();
    }, function () {
      ui.listStatus.textContent = strings.errorList;
    });
  }

  function conversationName(conversation) {
    return (conversation && conversation.name && conversation.name.trim()) || strings.untitled;
  }

  function renderConversationList() {
    var list = ui.conversationList;
    list.textContent = '';
    state.conversations.forEach(function (conversation) {
      var item = element('li', 'conversation');
      item.setAttribute('data-id', conversation.id);
      var editing = state.editing && state.editing.id === conversation.id ? state.editing.kind : null;
      if (conversation.id === state.currentId) item.classList.add('current');
      if (editing === 'rename') item.appendChild(renameForm(conversation));
      else if (editing === 'delete') item.appendChild(deleteConfirmation(conversation));
      else item.appendChild(conversationRow(conversation));
      list.appendChild(item);
    });
  }

  function conversationRow(conversation) {
    var row = element('div', 'conversation-row');
    var open = element('button', 'conversation-open');
    open.type = 'button';
    if (conversation.id === state.currentId) open.setAttribute('aria-current', 'page');
    open.appendChild(element('span', 'conversation-name', conversationName(conversation)));
    if (conversation.created_at) {
      open.appendChild(element('span', 'conversation-date', new Date(conversation.created_at * 1000).toLocaleDateString(language, { month: 'short', day: 'numeric' })));
    }
    open.addEventListener('click', function () { selectConversation(conversation.id); });
    row.appendChild(open);
    row.appendChild(iconButton('pencil', strings.rename + ': ' + conversationName(conversation), 'rename', function () {
      state.editing = { id: conversation.id, kind: 'rename' };
      renderConversationList();
      var input = ui.conversationList.querySelector('.rename-form input');
      input.focus();
      input.select();
    }));
    row.appendChild(iconButton('trash', strings.delete + ': ' + conversationName(conversation), 'delete', function () {
      state.editing = { id: conversation.id, kind: 'delete' };
      renderConversationList();
      ui.conversationList.querySelector('.delete-confirm .cancel').focus();
    }));
    return row;
  }

  function renameForm(conversation) {
    var form = element('form', 'rename-form');
    var input = element('input');
    input.type = 'text';
    input.value = conversationName(conversation);
    input.maxLength = 512;
    input.setAttribute('aria-label', strings.renameLabel);
    form.appendChild(input);
    form.appendChild(textButton(strings.save, 'button small primary save', 'submit'));
    form.appendChild(textButton(strings.cancel, 'button small cancel', 'button', stopEditing));
    input.addEventListener('keydown', function (event) { if (event.key === 'Escape') stopEditing(); });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var name = input.value.trim();
      if (!name) return stopEditing();
      api('POST', '/v1/conversations/' + conversation.id + '/name', { name: name }).then(function (renamed) {
        conversation.name = renamed.name;
        stopEditing();
        updateTitle();
      }, function () { announce(strings.errorAction); });
    });
    return form;
  }

  function deleteConfirmation(conversation) {
    var box = element('div', 'delete-confirm');
    box.setAttribute('role', 'group');
    box.setAttribute('aria-label', strings.deleteConfirm);
    box.appendChild(element('span', 'delete-question', strings.deleteConfirm));
    box.appendChild(textButton(strings.delete, 'button small danger confirm', 'button', function () {
      api('DELETE', '/v1/conversations/' + conversation.id).then(function () {
        state.conversations = state.conversations.filter(function (c) { return c.id !== conversation.id; });
        state.editing = null;
        if (state.currentId === conversation.id) newChat();
        renderConversationList();
        ui.composerInput.focus();
      }, function () { announce(strings.errorAction); });
    }));
    box.appendChild(textButton(strings.cancel, 'button small cancel', 'button', stopEditing));
    box.addEventListener('keydown', function (event) { if (event.key === 'Escape') stopEditing(); });
    return box;
  }

  function stopEditing() {
    var id = state.editing && state.editing.id;
    state.editing = null;
    renderConversationList();
    var row = id && ui.conversationList.querySelector('[data-id="' + id + '"] .conversation-open');
    if (row) row.focus();
  }

  function selectConversation(id) {
    closeSidebar();
    if (id === state.currentId) return;
    openConversation(id);
    renderConversationList();
  }

  /* ---- one conversation ---- */

  /* The open conversation is kept per tab (sessionStorage: a reload reopens this tab's conversation) and for the
     next tab (localStorage). */
  function rememberConversation(id) {
    state.currentId = id;
    ['sessionStorage', 'localStorage'].forEach(function (name) {
      try {
        if (id) window[name].setItem(conversationKey, id); else window[name].removeItem(conversationKey);
      } catch (e) { /* storage refused: the conversation just is not reopened on reload */ }
    });
  }

  function rememberedConversation() {
    try { return sessionStorage.getItem(conversationKey) || localStorage.getItem(conversationKey); } catch (e) { return null; }
  }

  /* `quiet`: another tab asked in this conversation; the messages shown stay until the new ones arrive. */
  function openConversation(id, quiet) {
    var loading = null;
    var seq = state.loadSeq;
    if (!quiet) {
      detachStream();
      rememberConversation(id);
      updateTitle();
      clearMessages();
      loading = element('p', 'loading', strings.loading);
      ui.messages.appendChild(loading);
      seq = ++state.loadSeq;
    }
    api('GET', '/v1/conversations/' + encodeURIComponent(id) + '/messages').then(function (messages) {
      if (seq !== state.loadSeq || state.currentId !== id) return;
      if (quiet && state.turn) return;   // the user sent something meanwhile, or the answer is already shown
      detachStream();
      clearMessages();
      var running = showMessages(messages);
      var kept = keptTurns()[id];
      if (running) attachTurn(running);
      else if (kept) checkKeptTurn(kept);
      if (!messages.length && !running) showEmpty();
      scrollToEnd(true);
    }, function (error) {
      if (seq !== state.loadSeq || quiet) return;
      loading.remove();
      if (error.status === 404) { rememberConversation(null); showEmpty(); return; }
      ui.messages.appendChild(element('p', 'notice error', strings.errorMessages));
    });
  }

  /* The history; the rows of a turn still being answered (`turn_id`, status accepted or streaming) show its text so
     far and are returned, to attach to. */
  function showMessages(messages) {
    var running = null;
    messages.forEach(function (message) {
      var inProgress = !!message.turn_id && (message.status === 'accepted' || message.status === 'streaming');
      if (message.role === 'user') {
        var user = addUserMessage(message.content);
        if (inProgress) running = { id: message.turn_id, user: user, text: message.content, answer: null };
      } else if (inProgress) {
        var answer = addAssistantMessage();
        answer.text = message.content || '';
        renderAnswer(answer);
        if (running && running.id === message.turn_id) running.answer = answer;
        else running = { id: message.turn_id, user: null, text: '', answer: answer };
      } else {
        finishAnswer(addAssistantMessage(), message.content, message.id, false);
      }
    });
    return running;
  }

  /* A turn this tab remembers in the open conversation that its messages do not show as running: attach to it if
     it still runs (the listing may lag behind), else forget it. */
  function checkKeptTurn(kept) {
    var seq = state.loadSeq;
    api('GET', '/v1/turns/' + encodeURIComponent(kept.turn_id)).then(function (snapshot) {
      if (seq !== state.loadSeq || state.turn) return;
      if (isFinal(snapshot.status)) return forgetTurn(kept.turn_id);
      attachTurn({ id: kept.turn_id, user: addUserMessage(kept.message), text: kept.message }, snapshot);
      scrollToEnd(true);
    }, function (error) {
      if (error.status === 404) forgetTurn(kept.turn_id);
    });
  }

  /* Reloaded before the first answer of a new conversation named it: open the conversation it has now, or wait
     for it in a new chat. */
  function resumeNewConversation(kept) {
    showEmpty();
    var seq = state.loadSeq;
    api('GET', '/v1/turns/' + encodeURIComponent(kept.turn_id)).then(function (snapshot) {
      if (seq !== state.loadSeq || state.turn || state.currentId) return;
      if (snapshot.conversation_id) {
        forgetTurn(kept.turn_id);
        if (!isFinal(snapshot.status)) {
          kept.conversation_id = snapshot.conversation_id;
          storeKept(snapshot.conversation_id, kept);
        }
        openConversation(snapshot.conversation_id);
        return;
      }
      if (isFinal(snapshot.status)) return forgetTurn(kept.turn_id);
      attachTurn({ id: kept.turn_id, user: addUserMessage(kept.message), text: kept.message }, snapshot);
    }, function (error) {
      if (error.status === 404) forgetTurn(kept.turn_id);
    });
  }

  function newChat() {
    detachStream();
    rememberConversation(null);
    state.loadSeq++;
    clearMessages();
    showEmpty();
    updateTitle();
    renderConversationList();
    closeSidebar();
    ui.composerInput.focus();
  }

  function clearMessages() {
    ui.messages.textContent = '';
  }

  function showEmpty() {
    clearMessages();
    ui.emptyState.textContent = mode === 'embed' ? strings.empty : strings.emptyFull;
    ui.messages.appendChild(ui.emptyState);
  }

  function updateTitle() {
    var current = state.conversations.filter(function (c) { return c.id === state.currentId; })[0];
    ui.chatTitle.textContent = current ? conversationName(current) : strings.newChat;
  }

  function addUserMessage(text) {
    ui.emptyState.remove();
    var message = element('div', 'message user');
    message.appendChild(element('span', 'visually-hidden', strings.you + ':'));
    message.appendChild(element('div', 'bubble', text));
    ui.messages.appendChild(message);
    return message;
  }

  function addAssistantMessage() {
    ui.emptyState.remove();
    var message = element('div', 'message assistant');
    var avatar = element('div', 'avatar');
    avatar.setAttribute('aria-hidden', 'true');
    avatar.appendChild(icon('spark'));
    message.appendChild(avatar);
    var body = element('div', 'message-body');
    body.appendChild(element('span', 'visually-hidden', strings.assistant + ':'));
    var content = element('div', 'content markdown');
    body.appendChild(content);
    message.appendChild(body);
    ui.messages.appendChild(message);
    return { message: message, body: body, content: content, text: '' };
  }

  function renderAnswer(answer) {
    answer.content.textContent = '';
    answer.content.appendChild(window.ChatMarkdown.render(answer.text));
  }

  function showTyping(answer, label) {
    var typing = answer.body.querySelector('.typing');
    if (!typing) {
      typing = element('div', 'typing');
      typing.setAttribute('aria-hidden', 'true');
      for (var i = 0; i < 3; i++) typing.appendChild(element('span', 'dot'));
      typing.appendChild(element('span', 'typing-label'));
      answer.body.appendChild(typing);
    }
    typing.querySelector('.typing-label').textContent = label || '';
  }

  function finishAnswer(answer, text, messageId, stopped) {
    answer.text = text;
    renderAnswer(answer);
    var typing = answer.body.querySelector('.typing');
    if (typing) typing.remove();
    if (stopped) answer.body.appendChild(element('p', 'notice stopped', strings.stopped));
    if (messageId) answer.body.appendChild(messageActions(answer, messageId));
  }

  function messageActions(answer, messageId) {
    var bar = element('div', 'message-actions');
    bar.appendChild(copyButton(answer));
    feedbackButtons(messageId).forEach(function (button) { bar.appendChild(button); });
    return bar;
  }

  /* Copies the answer as written (Markdown), which pastes well into notes and editors. */
  function copyButton(answer) {
    var button = iconButton('copy', strings.copy, 'copy', function () {
      navigator.clipboard.writeText(answer.text).then(function () {
        button.setAttribute('aria-label', strings.copied);
        button.title = strings.copied;
        button.replaceChild(icon('check'), button.firstChild);
        announce(strings.copied);
        setTimeout(function () {
          button.setAttribute('aria-label', strings.copy);
          button.title = strings.copy;
          button.replaceChild(icon('copy'), button.firstChild);
        }, 2000);
      }, function () { announce(strings.errorAction); });
    });
    return button;
  }

  function feedbackButtons(messageId) {
    var like = iconButton('thumbUp', strings.like, 'like', function () { rate(like.getAttribute('aria-pressed') === 'true' ? null : 'like'); });
    var dislike = iconButton('thumbDown', strings.dislike, 'dislike', function () { rate(dislike.getAttribute('aria-pressed') === 'true' ? null : 'dislike'); });
    like.setAttribute('aria-pressed', 'false');
    dislike.setAttribute('aria-pressed', 'false');
    function rate(rating) {
      api('POST', '/v1/messages/' + encodeURIComponent(messageId) + '/feedbacks', { rating: rating }).then(function () {
        like.setAttribute('aria-pressed', String(rating === 'like'));
        dislike.setAttribute('aria-pressed', String(rating === 'dislike'));
      }, function () { announce(strings.errorAction); });
    }
    return [like, dislike];
  }

  function showSuggestions(messageId) {
    var seq = state.loadSeq;
    api('GET', '/v1/messages/' + encodeURIComponent(messageId) + '/suggested').then(function (reply) {
      var questions = (reply && reply.data) || [];
      // Too late if the user has moved to another conversation or already asked the next question.
      if (!questions.length || state.busy || seq !== state.loadSeq) return;
      removeSuggestions();
      var group = element('div', 'suggestions');
      group.setAttribute('role', 'group');
      group.setAttribute('aria-label', strings.suggestions);
      questions.forEach(function (question) {
        group.appendChild(textButton(question, 'chip', 'button', function () { send(question); }));
      });
      ui.messages.appendChild(group);
      scrollToEnd(false);
    }, function () { /* suggestions are optional: an app without them simply shows none */ });
  }

  function removeSuggestions() {
    var old = ui.messages.querySelector('.suggestions');
    if (old) old.remove();
  }

  /* ---- sending and streaming ---- */

  function send(text) {
    text = (text || '').trim();
    if (!text || state.busy) return;
    removeSuggestions();
    var user = addUserMessage(text);
    var answer = addAssistantMessage();
    showTyping(answer);
    var turn = { controller: new AbortController(), taskId: null, stopRequested: false, detached: false };
    state.turn = turn;
    setBusy(true);
    announce(strings.typing);
    scrollToEnd(true);

    var body = { message: text, inputs: { language: language }, stream: true };
    if (state.currentId) body.conversation_id = state.currentId;
    var ended = false;
    var paintPending = false;
    function paint() {
      paintPending = false;
      if (ended) return;
      renderAnswer(answer);
      scrollToEnd(false);
    }
    function schedulePaint() {
      if (paintPending) return;
      paintPending = true;
      // A very long answer takes longer to re-render than a frame lasts: repaint it a few times a second instead.
      if (answer.text.length > 20000) setTimeout(paint, 200); else requestAnimationFrame(paint);
    }
    function handle(name, data) {
      if (turn.detached) return;
      if (name === 'start') {
        turn.taskId = data.task_id;
        if (!state.currentId && data.conversation_id) startedConversation(data.conversation_id, text);
        if (turn.stopRequested) requestStop(turn);
      } else if (name === 'delta') {
        answer.text += data.text || '';
        schedulePaint();
      } else if (name === 'replace') {
        answer.text = data.answer || '';
        schedulePaint();
      } else if (name === 'progress' && data.title) {
        showTyping(answer, data.title);
      } else if (name === 'done') {
        ended = true;
        finishAnswer(answer, data.answer != null ? data.answer : answer.text, data.message_id, data.stopped);
        endTurn(turn);   // aria-busy drops: the log region now reads the finished answer once
        loadConversations();
        if (data.message_id && !data.stopped) showSuggestions(data.message_id);
      } else if (name === 'error') {
        ended = true;
        failTurn(turn, user, answer, text, data.status, data.detail);
      }
    }

    fetch('/v1/chat', {
      method: 'POST', signal: turn.controller.signal, cache: 'no-store',
      headers: { Authorization: 'Bearer ' + session.token, 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify(body),
    }).then(function (response) {
      if (!response.ok) return failure(response);
      return readEvents(response.body, handle);
    }).then(function () {
      if (!ended && !turn.detached) failTurn(turn, user, answer, text, null, null);
    }, function (error) {
      if (turn.detached) return;
      if (error && error.status === 401) return;
      failTurn(turn, user, answer, text, error && error.status, error && error.message, error && error.budgetResets);
    });
  }

  /* Server-sent events from a fetch body: `event:` and `data:` lines, a blank line ends each event. */
  function readEvents(stream, handle) {
    var reader = stream.getReader();
    var decoder = new TextDecoder();
    var buffer = '';
    function dispatch(block) {
      var name = 'message';
      var data = [];
      block.split('\n').forEach(function (line) {
        if (line.indexOf('event:') === 0) name = line.slice(6).trim();
        else if (line.indexOf('data:') === 0) data.push(line.slice(5).replace(/^ /, ''));
      });
      if (!data.length) return;
      var parsed;
      try { parsed = JSON.parse(data.join('\n')); } catch (e) { return; }
      handle(name, parsed);
    }
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          if (buffer.trim()) dispatch(buffer);
          return;
        }
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, '\n');
        var end;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        return pump();
      });
    }
    return pump();
  }

  /* A name from the first message: whole words up to `limit` characters, then an ellipsis; text without spaces
     (Chinese, Japanese) is cut between graphemes, never inside one (an emoji, a letter and its accent). */
  function provisionalName(text, limit) {
    var clean = text.replace(/\s+/g, ' ').trim();
    var graphemes = typeof Intl !== 'undefined' && Intl.Segmenter
      ? Array.from(new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(clean), function (s) { return s.segment; })
      : Array.from(clean);
    if (graphemes.length <= limit) return clean;
    var kept = graphemes.slice(0, limit);
    var lastSpace = kept.lastIndexOf(' ');
    if (graphemes[limit] !== ' ' && lastSpace > limit / 2) kept = kept.slice(0, lastSpace);
    return kept.join('').trim() + '\u2026';
  }

  /* The first answer of a new conversation names it: list it at once, the real name follows after `done`. */
  function startedConversation(id, text) {
    rememberConversation(id);
    if (!state.conversations.some(function (c) { return c.id === id; })) {
      state.conversations.unshift({ id: id, name: provisionalName(text, 75), created_at: Math.floor(Date.now() / 1000) });
    }
    renderConversationList();
    updateTitle();
  }

  /* Upstream trouble (5xx, or no answer at all) is said in the user's language; a request the API refused
     (422: too long, 404: conversation gone) keeps the API's own reason, which says what to change. */
  function failureReason(status, detail, budgetResets) {
    if (!status || status >= 500) return status === 504 ? strings.errorTimeout : strings.errorUnavailable;
    // A used-up budget is said in the user's language, with when it resets in their own time zone.
    if (status === 429 && budgetResets) {
      var resets = new Date(budgetResets);
      var when = isNaN(resets) ? budgetResets : resets.toLocaleString(language, { dateStyle: 'medium', timeStyle: 'short' });
      return strings.errorBudget.replace('{time}', when);
    }
    return detail || '';
  }

  function failTurn(turn, user, answer, text, status, detail, budgetResets) {
    endTurn(turn);
    answer.message.remove();
    user.classList.add('failed');
    var problem = element('div', 'send-error');
    problem.setAttribute('role', 'alert');
    problem.appendChild(element('span', 'send-error-text', strings.errorSend + ' ' + failureReason(status, detail, budgetResets)));
    problem.appendChild(textButton(strings.retry, 'button small retry', 'button', function () {
      if (state.busy) return;
      user.remove();
      send(text);
    }));
    user.appendChild(problem);
    scrollToEnd(true);
  }

  function endTurn(turn) {
    if (state.turn === turn) state.turn = null;
    setBusy(false);
  }

  function stopStreaming() {
    var turn = state.turn;
    if (!turn || turn.stopRequested) return;
    turn.stopRequested = true;
    ui.stopButton.disabled = true;
    if (turn.taskId) requestStop(turn);
  }

  /* Dify stops the task; the stream then ends with `done` and `stopped: true`. If the stop itself fails,
     leaving the stream is the only stop left (the gateway still stores the whole answer). */
  function requestStop(turn) {
    api('POST', '/v1/chat/' + encodeURIComponent(turn.taskId) + '/stop', {}).catch(function () {
      turn.controller.abort();
    });
  }

  /* Leaving a conversation mid-answer: stop listening, not the answer (the gateway stores it). */
  function detachStream() {
    var turn = state.turn;
    if (!turn) return;
    turn.detached = true;
    turn.controller.abort();
    endTurn(turn);
  }

  function setBusy(busy) {
    // A control about to be disabled or hidden (Send, Stop) would drop the keyboard focus to the page.
    var focusWasOnControl = document.activeElement === ui.sendButton || document.activeElement === ui.stopButton;
    state.busy = busy;
    ui.messages.setAttribute('aria-busy', String(busy));
    updateControls();
    if (focusWasOnControl && (busy ? ui.stopButton : ui.composerInput) !== document.activeElement) {
      (busy ? ui.stopButton : ui.composerInput).focus();
    }
  }

  function updateControls() {
    ui.sendButton.disabled = state.busy || !ui.composerInput.value.trim();
    ui.stopButton.hidden = !state.busy;
    ui.stopButton.disabled = !state.busy || !!(state.turn && state.turn.stopRequested);
    ui.composer.classList.toggle('busy', state.busy);
  }

  /* ---- composer ---- */

  function bindComposer() {
    var input = ui.composerInput;
    ui.composer.addEventListener('submit', function (event) {
      event.preventDefault();
      submit();
    });
    input.addEventListener('compositionstart', function () { state.composing = true; });
    input.addEventListener('compositionend', function () { state.composing = false; });
    input.addEventListener('keydown', function (event) {
      if (event.key !== 'Enter' || event.shiftKey) return;
      // Enter that confirms an IME candidate (Korean, Japanese, Chinese input) is not a send.
      if (event.isComposing || event.keyCode === 229 || state.composing) return;
      event.preventDefault();
      submit();
    });
    input.addEventListener('input', function () {
      autoSize();
      updateControls();
    });
    ui.stopButton.addEventListener('click', stopStreaming);
  }

  function submit() {
    var text = ui.composerInput.value;
    if (!text.trim() || state.busy) return;
    ui.composerInput.value = '';
    autoSize();
    send(text);
  }

  function autoSize() {
    var input = ui.composerInput;
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight, 200) + 'px';
  }

  /* ---- navigation: new chat, the sidebar drawer on small screens ---- */

  function bindNavigation() {
    Array.prototype.forEach.call(document.querySelectorAll('[data-action="new-chat"]'), function (button) {
      button.addEventListener('click', newChat);
    });
    ui.menuButton.addEventListener('click', function () {
      if (ui.app.classList.contains('sidebar-open')) closeSidebar(); else openSidebar();
    });
    ui.scrim.addEventListener('click', closeSidebar);
    document.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && ui.app.classList.contains('sidebar-open')) {
        closeSidebar();
        ui.menuButton.focus();
      }
    });
  }

  function openSidebar() {
    ui.app.classList.add('sidebar-open');
    ui.scrim.hidden = false;
    ui.menuButton.setAttribute('aria-expanded', 'true');
    var first = ui.sidebar.querySelector('button');
    if (first) first.focus();
  }

  function closeSidebar() {
    if (!ui.app.classList.contains('sidebar-open')) return;
    ui.app.classList.remove('sidebar-open');
    ui.scrim.hidden = true;
    ui.menuButton.setAttribute('aria-expanded', 'false');
  }

  /* ---- small helpers ---- */

  function announce(text) {
    ui.announcer.textContent = '';
    // A fresh text node after a tick makes screen readers announce the same text twice in a row.
    setTimeout(function () { ui.announcer.textContent = text; }, 30);
  }

  function scrollToEnd(force) {
    var box = ui.messages;
    var nearEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
    if (force || nearEnd) box.scrollTop = box.scrollHeight;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function textButton(label, className, type, onClick) {
    var button = element('button', className, label);
    button.type = type;
    if (onClick) button.addEventListener('click', onClick);
    return button;
  }

  function iconButton(name, label, role, onClick) {
    var button = element('button', 'icon-button ' + role);
    button.type = 'button';
    button.setAttribute('aria-label', label);
    button.title = label;
    button.appendChild(icon(name));
    button.addEventListener('click', onClick);
    return button;
  }

  function icon(name) {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('class', 'icon');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    var path = document.createElementNS(ns, 'path');
    path.setAttribute('d', ICONS[name]);
    svg.appendChild(path);
    return svg;
  }
})();
