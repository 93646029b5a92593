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
      // A message sent while the history loaded stays, after it; a quiet refresh gives way to it.
      var sent = state.turn;
      if (quiet && sent) return;
      if (sent) loading.remove(); else clearMessages();
      var running = showMessages(messages.filter(function (m) { return !sent || !m.turn_id || m.turn_id !== sent.id; }));
      var kept = keptTurns()[id];
      if (sent) {
        ui.messages.appendChild(sent.user);
        ui.messages.appendChild(sent.answer.message);
      } else if (running) {
        attachTurn(running);
      } else if (kept && kept.turn_id) {
        checkKeptTurn(kept);
      } else if (kept) {
        // Sent just before a reload, in this conversation: shown above if the gateway got it, else sent again.
        var asked = messages.filter(function (m) { return m.role === 'user'; }).pop();
        if (asked && asked.content === kept.message) forgetTurn(null, kept.key); else resendKept(kept, id);
      }
      if (!messages.length && !sent && !running) showEmpty();
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
    function elsewhere() {
      var remembered = rememberedConversation();
      if (remembered) openConversation(remembered);
    }
    if (!kept.turn_id) {
      if (!resendKept(kept, null)) elsewhere();
      return;
    }
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
      if (isFinal(snapshot.status)) {
        forgetTurn(kept.turn_id);
        return elsewhere();
      }
      attachTurn({ id: kept.turn_id, user: addUserMessage(kept.message), text: kept.message }, snapshot);
    }, function (error) {
      if (error.status === 404) forgetTurn(kept.turn_id);
      if (seq === state.loadSeq && !state.turn && !state.currentId) elsewhere();
    });
  }

  /* Reloaded before the gateway's answer began: the same request again, with the same Idempotency-Key (within a
     minute). The gateway answers with the turn it had started, or starts it if the first request never reached it.
     False when it is too late to send it again. */
  function resendKept(kept, conversationId) {
    forgetTurn(null, kept.key);
    if (!(kept.key && kept.body && Date.now() - kept.at < 60000)) return false;
    var turn = beginTurn(addUserMessage(kept.message), kept.message, null);
    turn.own = true;
    turn.key = kept.key;
    turn.body = kept.body;
    turn.conversationId = conversationId;
    keepTurn(turn);
    post(turn);
    return true;
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

  /* ---- sending and streaming ----
     A turn is one answer shown as it streams: one this page asked for (`own`: send), or one it attached to (a
     reload, a second tab, coming back to a conversation). Its events carry ids (`id:`, 1, 2, ... in the turn): the
     page applies each once, in order, and a broken connection resumes after the last one it applied
     (`GET /v1/turns/{id}/events?after=N`), so no text is lost or doubled. */

  var RECONNECT_ATTEMPTS = 8;   // about 40 s of backoff (0.5, 1, 2, 4, 8, 8, ... s) before the turn counts as lost
  var STALL_MS = 45000;         // no byte, not even a keep-alive, for this long: the connection is dead

  function send(text, again) {
    text = (text || '').trim();
    if (!text || state.busy) return;
    removeSuggestions();
    var turn = beginTurn(addUserMessage(text), text, null);
    turn.own = true;
    // A fresh Idempotency-Key per message. The same message sent again after a network failure keeps its key and
    // body: if the gateway got it the first time, it answers with that turn, never with a second answer.
    turn.key = again ? again.key : newKey();
    turn.body = again ? again.body : { message: text, inputs: { language: language }, stream: true };
    if (!again && state.currentId) turn.body.conversation_id = state.currentId;
    turn.conversationId = turn.body.conversation_id || null;
    keepTurn(turn);
    announce(strings.typing);
    post(turn);
  }

  function beginTurn(user, text, answer) {
    answer = answer || addAssistantMessage();
    showTyping(answer);
    var turn = {
      id: null, conversationId: state.currentId, own: false, key: null, body: null, text: text, user: user,
      answer: answer, controller: null, taskId: null, stopRequested: false, leaving: false, detached: false,
      ended: false, lastEventId: 0, rebuild: false, attempts: 0, paintPending: false,
      retryTimer: null, stallTimer: null, saveTimer: null,
    };
    state.turn = turn;
    setBusy(true);
    scrollToEnd(true);
    return turn;
  }

  function post(turn) {
    fetch('/v1/chat', {
      method: 'POST', signal: connect(turn), cache: 'no-store',
      headers: {
        Authorization: 'Bearer ' + session.token, 'Content-Type': 'application/json', Accept: 'text/event-stream',
        'Idempotency-Key': turn.key,
      },
      body: JSON.stringify(turn.body),
    }).then(function (response) {
      if (!response.ok) return failure(response);
      turn.id = response.headers.get('X-Turn-Id') || turn.id;
      if (turn.id) keepTurn(turn);
      return follow(turn, response);
    }).then(null, function (error) { broken(turn, error); });
  }

  /* The turn's events after the last one this page applied. */
  function listen(turn) {
    fetch('/v1/turns/' + encodeURIComponent(turn.id) + '/events?after=' + turn.lastEventId, {
      signal: connect(turn), cache: 'no-store',
      headers: { Authorization: 'Bearer ' + session.token, Accept: 'text/event-stream' },
    }).then(function (response) {
      // 204: the turn is over and this page has its last event; its state says how it ended.
      if (response.status === 204) return api('GET', '/v1/turns/' + encodeURIComponent(turn.id)).then(function (snapshot) { resume(turn, snapshot); });
      if (!response.ok) return failure(response);
      return follow(turn, response);
    }).then(null, function (error) { broken(turn, error); });
  }

  function connect(turn) {
    turn.controller = new AbortController();
    watch(turn);
    return turn.controller.signal;
  }

  function follow(turn, response) {
    return readEvents(response.body, function (name, data, id) { handle(turn, name, data, id); }, function () { watch(turn); })
      .then(function () { broken(turn, null); });   // (after `done` or `error` the turn has ended: nothing to do)
  }

  /* Nothing at all for STALL_MS (the gateway sends keep-alives far more often): drop the connection, resume. */
  function watch(turn) {
    clearTimeout(turn.stallTimer);
    turn.stallTimer = setTimeout(function () {
      if (!turn.ended && !turn.detached && turn.controller) turn.controller.abort();
    }, STALL_MS);
  }

  /* A stream that ended without `done` or `error`, or a request that failed. */
  function broken(turn, error) {
    if (turn.ended || turn.detached) return;
    if (error && error.status === 401) return;   // the session ended: its page says why
    // Following a turn that exists, a gateway restarting (502/503/504 from a proxy) or busy (429) is waited out.
    var passing = turn.id && [408, 429, 502, 503, 504].indexOf(error && error.status) >= 0;
    if (error && error.status && !passing) return failTurn(turn, error.status, error.message, error.budgetResets);
    if (turn.leaving) {
      // Stopping failed, so the page left the stream: what arrived stays (the gateway stores the whole answer).
      return handle(turn, 'done', { answer: turn.answer.text, stopped: true }, null);
    }
    reconnect(turn);
  }

  /* The network dropped (or the gateway closed the stream early): again after a backoff, from the last event
     applied; without a turn id yet, the same request again (same Idempotency-Key). */
  function reconnect(turn) {
    turn.attempts += 1;
    if (turn.attempts > RECONNECT_ATTEMPTS) return failTurn(turn, null, null, null, true);
    var delay = Math.min(8000, 500 * Math.pow(2, turn.attempts - 1)) * (0.75 + Math.random() * 0.5);
    turn.retryTimer = setTimeout(function () { again(turn); }, delay);
  }

  function again(turn) {
    clearTimeout(turn.retryTimer);
    turn.retryTimer = null;
    if (turn.ended || turn.detached) return;
    if (turn.id) listen(turn); else post(turn);
  }

  /* Back online: a pending reconnect need not wait for its backoff. */
  function reconnectNow() {
    var turn = state.turn;
    if (turn && turn.retryTimer) again(turn);
  }

  function handle(turn, name, data, id) {
    if (turn.detached || turn.ended) return;
    if (id !== null) {
      if (id <= turn.lastEventId) return;   // already applied: a resumed stream may repeat what had arrived
      turn.lastEventId = id;
      turn.attempts = 0;
    }
    var answer = turn.answer;
    if (turn.rebuild && (name === 'delta' || name === 'replace' || name === 'sync')) {
      // Attached without the text so far: the events from the first one rebuild it.
      turn.rebuild = false;
      answer.text = '';
    }
    if (name === 'start') {
      turn.taskId = data.task_id || turn.taskId;
      if (data.turn_id) turn.id = data.turn_id;
      if (data.conversation_id) {
        turn.conversationId = data.conversation_id;
        if (!state.currentId) startedConversation(data.conversation_id, turn.text);
        keepTurn(turn);
        if (turn.own) tellOtherTabs('turn', turn);
      }
      if (turn.stopRequested) requestStop(turn);
    } else if (name === 'delta') {
      answer.text += data.text || '';
      schedulePaint(turn);
    } else if (name === 'replace') {
      answer.text = data.answer || '';
      schedulePaint(turn);
    } else if (name === 'sync') {
      // The answer so far, replacing what the page has (the gateway no longer held the events one by one).
      answer.text = data.text || '';
      schedulePaint(turn);
    } else if (name === 'progress' && data.title) {
      showTyping(answer, data.title);
    } else if (name === 'done') {
      turn.ended = true;
      forgetTurn(turn.id, turn.key);
      finishAnswer(answer, data.answer != null ? data.answer : answer.text, data.message_id, data.stopped);
      endTurn(turn);   // aria-busy drops: the log region now reads the finished answer once
      loadConversations();
      if (turn.own) tellOtherTabs('ended', turn);
      if (data.message_id && !data.stopped) showSuggestions(data.message_id);
    } else if (name === 'error') {
      failTurn(turn, data.status, data.detail);
      if (turn.own) tellOtherTabs('ended', turn);
    }
    if (id !== null) keepProgress(turn);
  }

  function schedulePaint(turn) {
    if (turn.paintPending) return;
    turn.paintPending = true;
    function paint() {
      turn.paintPending = false;
      if (turn.ended || turn.detached) return;
      renderAnswer(turn.answer);
      scrollToEnd(false);
    }
    // A very long answer takes longer to re-render than a frame lasts: repaint it a few times a second instead.
    if (turn.answer.text.length > 20000) setTimeout(paint, 200); else requestAnimationFrame(paint);
  }

  /* A turn found running (in the conversation's messages, or remembered by this tab): its text so far is on the
     page; its state (`GET /v1/turns/{id}`: text and the id of the last event in it, task id) unless given, then its
     events from there. */
  function attachTurn(found, snapshot) {
    var turn = beginTurn(found.user, found.text, found.answer);
    turn.id = found.id;
    if (found.own) {
      turn.own = true;
      turn.key = found.key;
      turn.body = found.body;
    }
    keepTurn(turn);
    if (snapshot) return resume(turn, snapshot);
    api('GET', '/v1/turns/' + encodeURIComponent(turn.id)).then(function (found) { resume(turn, found); }, function (error) {
      if (turn.detached || turn.ended || error.status === 401) return;
      if (error.status === 404) {
        // Gone (its conversation was deleted): what is shown stays.
        forgetTurn(turn.id);
        return handle(turn, 'done', { answer: turn.answer.text }, null);
      }
      turn.rebuild = true;
      listen(turn);
    });
  }

  function resume(turn, snapshot) {
    if (turn.detached || turn.ended) return;
    turn.taskId = snapshot.task_id || turn.taskId;
    if (snapshot.conversation_id) turn.conversationId = snapshot.conversation_id;
    if (isFinal(snapshot.status)) {
      if (snapshot.status === 'completed' || snapshot.status === 'stopped') {
        return handle(turn, 'done', {
          answer: snapshot.text, message_id: snapshot.message_id, conversation_id: snapshot.conversation_id,
          stopped: snapshot.status === 'stopped',
        }, null);
      }
      return handle(turn, 'error', { status: null, detail: snapshot.error }, null);
    }
    if ((snapshot.last_event_id || 0) >= turn.lastEventId) {
      turn.answer.text = snapshot.text || '';
      turn.lastEventId = snapshot.last_event_id || 0;
      schedulePaint(turn);
    }
    if (turn.stopRequested && turn.taskId) requestStop(turn);
    listen(turn);
  }

  function isFinal(status) {
    return status !== 'accepted' && status !== 'streaming';
  }

  /* Server-sent events from a fetch body: `id:`, `event:` and `data:` lines, a blank line ends each event;
     `onData` hears every chunk (keep-alives included). */
  function readEvents(stream, handle, onData) {
    var reader = stream.getReader();
    var decoder = new TextDecoder();
    var buffer = '';
    function dispatch(block) {
      var name = 'message';
      var data = [];
      var id = null;
      block.split('\n').forEach(function (line) {
        if (line.indexOf('event:') === 0) name = line.slice(6).trim();
        else if (line.indexOf('data:') === 0) data.push(line.slice(5).replace(/^ /, ''));
        else if (line.indexOf('id:') === 0 && /^\d+$/.test(line.slice(3).trim())) id = Number(line.slice(3).trim());
      });
      if (!data.length) return;
      var parsed;
      try { parsed = JSON.parse(data.join('\n')); } catch (e) { return; }
      handle(name, parsed, id);
    }
    function pump() {
      return reader.read().then(function (chunk) {
        if (onData) onData();
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

  function newKey() {
    try {
      if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    } catch (e) { /* not a secure context */ }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? '0' : '') + b.toString(16); }).join('');
  }

  /* ---- turns kept for a reload: per tab (sessionStorage), by conversation ('' for a new one not named yet) ---- */

  function keptTurns() {
    try { return JSON.parse(sessionStorage.getItem(turnsKey) || '{}') || {}; } catch (e) { return {}; }
  }

  function storeTurns(turns) {
    try {
      if (Object.keys(turns).length) sessionStorage.setItem(turnsKey, JSON.stringify(turns));
      else sessionStorage.removeItem(turnsKey);
    } catch (e) { /* storage refused: a reload finds a running turn through the conversation's messages only */ }
  }

  function storeKept(conversationId, kept) {
    var turns = keptTurns();
    turns[conversationId || ''] = kept;
    storeTurns(turns);
  }

  /* Its id, conversation, question and the id of the last event applied; until the gateway names it, the request
     itself (to send again with the same Idempotency-Key). */
  function keepTurn(turn) {
    if (turn.ended || !(turn.id || turn.own)) return;
    var turns = keptTurns();
    Object.keys(turns).forEach(function (k) {
      // One per conversation; and a day is more than any answer takes.
      if (sameTurn(turns[k], turn.id, turn.key) || !(Date.now() - turns[k].at < 86400000)) delete turns[k];
    });
    var kept = {
      turn_id: turn.id, conversation_id: turn.conversationId || null, message: turn.text,
      last_event_id: turn.lastEventId, at: Date.now(),
    };
    if (!turn.id) {
      kept.key = turn.key;
      kept.body = turn.body;
    }
    turns[turn.conversationId || ''] = kept;
    storeTurns(turns);
  }

  function sameTurn(kept, id, key) {
    return (!!id && kept.turn_id === id) || (!!key && kept.key === key);
  }

  function keepProgress(turn) {
    if (turn.saveTimer || turn.ended) return;
    turn.saveTimer = setTimeout(function () {
      turn.saveTimer = null;
      if (!turn.detached) keepTurn(turn);
    }, 1000);
  }

  function forgetTurn(id, key) {
    var turns = keptTurns();
    var changed = false;
    Object.keys(turns).forEach(function (k) {
      if (sameTurn(turns[k], id, key)) {
        delete turns[k];
        changed = true;
      }
    });
    if (changed) storeTurns(turns);
  }

  /* ---- the user's other tabs: a turn that starts in one is shown by another open on the same conversation ---- */

  function openChannel() {
    if (typeof BroadcastChannel !== 'function') return;
    try { channel = new BroadcastChannel('chat-gateway.' + session.system + '.' + session.user); } catch (e) { return; }
    channel.onmessage = function (event) {
      var note = event.data || {};
      if (note.type !== 'turn' && note.type !== 'ended') return;
      if (!state.editing) loadConversations();
      if (note.type === 'turn' && note.conversation_id && note.conversation_id === state.currentId && !state.turn) {
        openConversation(state.currentId, true);
      }
    };
  }

  function tellOtherTabs(type, turn) {
    if (!channel) return;
    try { channel.postMessage({ type: type, conversation_id: turn.conversationId, turn_id: turn.id }); } catch (e) { /* closed */ }
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

  /* `lostConnection`: the page could not reach the turn again. It may still be answered (a reload finds it), and
     Retry looks for it again (its turn id, else the same request with the same Idempotency-Key) rather than ask
     a second time. */
  function failTurn(turn, status, detail, budgetResets, lostConnection) {
    turn.ended = true;
    if (!lostConnection) forgetTurn(turn.id, turn.key);
    endTurn(turn);
    turn.answer.message.remove();
    var user = turn.user;
    if (!user) return;
    user.classList.add('failed');
    var problem = element('div', 'send-error');
    problem.setAttribute('role', 'alert');
    problem.appendChild(element('span', 'send-error-text', strings.errorSend + ' ' + failureReason(status, detail, budgetResets)));
    problem.appendChild(textButton(strings.retry, 'button small retry', 'button', function () {
      if (state.busy) return;
      if (lostConnection && turn.id) {
        problem.remove();
        user.classList.remove('failed');
        attachTurn({ id: turn.id, user: user, text: turn.text, own: turn.own, key: turn.key, body: turn.body });
        return;
      }
      user.remove();
      send(turn.text, lostConnection && turn.key ? { key: turn.key, body: turn.body } : null);
    }));
    user.appendChild(problem);
    scrollToEnd(true);
  }

  function endTurn(turn) {
    clearTimeout(turn.retryTimer);
    clearTimeout(turn.stallTimer);
    if (state.turn !== turn) return;
    state.turn = null;
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
      if (turn.ended || turn.detached) return;
      turn.leaving = true;
      if (turn.controller) turn.controller.abort();
      if (turn.retryTimer) handle(turn, 'done', { answer: turn.answer.text, stopped: true }, null);
    });
  }

  /* Leaving a conversation mid-answer: stop listening, not the answer (the gateway stores it, and this tab keeps
     the turn's id: coming back attaches to it again). */
  function detachStream() {
    var turn = state.turn;
    if (!turn) return;
    if (!turn.ended) keepTurn(turn);
    turn.detached = true;
    if (turn.controller) turn.controller.abort();
    clearTimeout(turn.saveTimer);
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
