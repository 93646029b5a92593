/*
 * Sending and streaming. A turn is one answer shown as it streams: one this page asked for (`own`: send), or one
 * it attached to (a reload, a second tab, coming back to a conversation). Its events carry ids (`id:`, 1, 2, ...
 * in the turn): the page applies each once, in order, and a broken connection resumes after the last one it
 * applied (`GET /v1/turns/{id}/events?after=N`), so no text is lost or doubled.
 */
import { api, failure, newKey, streamRequest } from './api.js';
import { language, state, strings, ui } from './context.js';
import { announce, scrollToEnd } from './dom.js';
import {
  addAssistantMessage, addUserMessage, finishAnswer, removeSuggestions, renderAnswer, showStep, showSuggestions,
  showTyping, version,
} from './messages.js';
import { refreshRegenerate } from './actions.js';
import { fileList } from './files.js';
import { loadConversations, startedConversation } from './conversations.js';
import { forgetTurn, keepTurn, keepProgress, tellOtherTabs } from './turns.js';
import { takeAttachments } from './attachments.js';
import { failTurn } from './failures.js';
import { readEvents } from './sse.js';

const RECONNECT_ATTEMPTS = 8;   // about 40 s of backoff (0.5, 1, 2, 4, 8, 8, ... s) before the turn counts as lost
const STALL_MS = 45000;         // no byte, not even a keep-alive, for this long: the connection is dead

/* `again`: the same request once more (its Idempotency-Key and body); `files`: uploaded attachments to send. */
export function send(text, again, files) {
  text = (text || '').trim();
  if (!text || state.busy) return;
  removeSuggestions();
  const attached = again ? (again.shownFiles || []) : (files || []);
  const turn = beginTurn(addUserMessage(text, attached), text, null);
  turn.own = true;
  turn.shownFiles = attached;
  // A fresh Idempotency-Key per message. The same message sent again after a network failure keeps its key and
  // body: if the gateway got it the first time, it answers with that turn, never with a second answer.
  turn.key = again ? again.key : newKey();
  turn.body = again ? again.body : { message: text, inputs: { language }, stream: true };
  if (!again && state.currentId) turn.body.conversation_id = state.currentId;
  if (!again && attached.length) {
    turn.body.files = attached.map((f) => ({ type: f.type, transfer_method: 'local_file', upload_file_id: f.id }));
  }
  turn.conversationId = turn.body.conversation_id || null;
  keepTurn(turn);
  announce(strings.typing);
  post(turn);
}

/* Sends the message in the composer with the files attached to it. */
export function sendComposed(text) {
  const files = takeAttachments();
  if (files === null) return false;
  send(text, null, files);
  return true;
}

/* The last answer asked again: the new attempt streams in its place and joins its versions ("2/2"). */
export function regenerate(answer) {
  if (state.busy || !answer.id) return;
  removeSuggestions();
  const users = ui.messages.querySelectorAll('.message.user');
  const user = users[users.length - 1] || null;
  const question = user ? user.querySelector('.bubble').textContent : '';
  const fresh = addAssistantMessage();
  answer.message.hidden = true;
  const turn = beginTurn(user, question, fresh);
  turn.own = true;
  turn.replaces = answer;
  turn.key = newKey();
  turn.body = { regenerate: answer.id, inputs: { language }, stream: true };
  if (state.currentId) turn.body.conversation_id = state.currentId;
  turn.conversationId = turn.body.conversation_id || null;
  keepTurn(turn);
  announce(strings.typing);
  post(turn);
}

export function beginTurn(user, text, answer) {
  answer = answer || addAssistantMessage();
  showTyping(answer);
  const turn = {
    id: null, conversationId: state.currentId, own: false, key: null, body: null, text, user,
    answer, controller: null, taskId: null, stopRequested: false, leaving: false, detached: false,
    ended: false, lastEventId: 0, rebuild: false, attempts: 0, paintPending: false,
    retryTimer: null, stallTimer: null, saveTimer: null, replaces: null, shownFiles: [],
  };
  state.turn = turn;
  setBusy(true);
  refreshRegenerate();
  scrollToEnd(true);
  return turn;
}

export function post(turn) {
  streamRequest('/v1/chat', {
    method: 'POST', signal: connect(turn),
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': turn.key },
    body: JSON.stringify(turn.body),
  }).then((response) => {
    if (!response.ok) return failure(response);
    turn.id = response.headers.get('X-Turn-Id') || turn.id;
    if (turn.id) keepTurn(turn);
    return follow(turn, response);
  }).then(null, (error) => broken(turn, error));
}

/* The turn's events after the last one this page applied. */
function listen(turn) {
  streamRequest('/v1/turns/' + encodeURIComponent(turn.id) + '/events?after=' + turn.lastEventId, {
    signal: connect(turn),
  }).then((response) => {
    // 204: the turn is over and this page has its last event; its state says how it ended.
    if (response.status === 204) {
      return api('GET', '/v1/turns/' + encodeURIComponent(turn.id)).then((snapshot) => resume(turn, snapshot));
    }
    if (!response.ok) return failure(response);
    return follow(turn, response);
  }).then(null, (error) => broken(turn, error));
}

function connect(turn) {
  turn.controller = new AbortController();
  watch(turn);
  return turn.controller.signal;
}

function follow(turn, response) {
  return readEventsOf(turn, response).then(() => broken(turn, null));   // (after `done` or `error` the turn has ended)
}

function readEventsOf(turn, response) {
  return readEvents(response.body, (name, data, id) => handle(turn, name, data, id), () => watch(turn));
}

/* Nothing at all for STALL_MS (the gateway sends keep-alives far more often): drop the connection, resume. */
function watch(turn) {
  clearTimeout(turn.stallTimer);
  turn.stallTimer = setTimeout(() => {
    if (!turn.ended && !turn.detached && turn.controller) turn.controller.abort();
  }, STALL_MS);
}

/* A stream that ended without `done` or `error`, or a request that failed. */
function broken(turn, error) {
  if (turn.ended || turn.detached) return undefined;
  if (error && error.status === 401) return undefined;   // the session ended: its page says why
  // Following a turn that exists, a gateway restarting (502/503/504 from a proxy) or busy (429) is waited out.
  const passing = turn.id && [408, 429, 502, 503, 504].indexOf(error && error.status) >= 0;
  if (error && error.status && !passing) return failTurn(turn, error.status, error.message, error.budgetResets);
  if (turn.leaving) {
    // Stopping failed, so the page left the stream: what arrived stays (the gateway stores the whole answer).
    return handle(turn, 'done', { answer: turn.answer.text, stopped: true }, null);
  }
  return reconnect(turn);
}

/* The network dropped (or the gateway closed the stream early): again after a backoff, from the last event
   applied; without a turn id yet, the same request again (same Idempotency-Key). */
function reconnect(turn) {
  turn.attempts += 1;
  if (turn.attempts > RECONNECT_ATTEMPTS) return failTurn(turn, null, null, null, true);
  const delay = Math.min(8000, 500 * Math.pow(2, turn.attempts - 1)) * (0.75 + Math.random() * 0.5);
  turn.retryTimer = setTimeout(() => again(turn), delay);
  return undefined;
}

function again(turn) {
  clearTimeout(turn.retryTimer);
  turn.retryTimer = null;
  if (turn.ended || turn.detached) return;
  if (turn.id) listen(turn); else post(turn);
}

/* Back online: a pending reconnect need not wait for its backoff. */
export function reconnectNow() {
  const turn = state.turn;
  if (turn && turn.retryTimer) again(turn);
}

function handle(turn, name, data, id) {
  if (turn.detached || turn.ended) return;
  if (id !== null) {
    if (id <= turn.lastEventId) return;   // already applied: a resumed stream may repeat what had arrived
    turn.lastEventId = id;
    turn.attempts = 0;
  }
  const answer = turn.answer;
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
  } else if (name === 'progress') {
    if (data.title) {
      showTyping(answer, data.title);
      showStep(answer, 'node:' + data.title, data.title + (data.status && data.status !== 'running' ? ' \u2713' : ''));
    }
  } else if (name === 'thought') {
    const thought = data.thought || {};
    const label = thought.tool ? strings.usedTool.replace('{tool}', thought.tool) : (thought.thought || '').slice(0, 120);
    if (label) showStep(answer, 'thought:' + (thought.id || thought.position || label), label);
  } else if (name === 'file') {
    if (data.url && (data.belongs_to || 'assistant') === 'assistant') {
      answer.files.push({ id: data.id, type: data.type, url: data.url });
      const old = answer.body.querySelector('.answer-files.streaming');
      const list = fileList(answer.files, 'answer-files streaming');
      if (old) old.replaceWith(list); else answer.body.insertBefore(list, answer.content.nextSibling);
    }
  } else if (name === 'done') {
    turn.ended = true;
    forgetTurn(turn.id, turn.key);
    const streaming = answer.body.querySelector('.answer-files.streaming');
    if (streaming) streaming.remove();
    const metadata = data.metadata || {};
    const extra = { sources: metadata.retriever_resources || [] };
    if (turn.replaces && data.message_id) {
      // The new attempt joins the earlier ones and takes the old answer's place.
      const old = turn.replaces;
      extra.versions = (old.versions || [version({ id: old.id, content: old.text })]).concat([{ id: data.message_id }]);
      old.message.remove();
    } else if (turn.replaces) {
      turn.replaces.message.hidden = false;
      answer.message.remove();
    }
    if (!turn.replaces || data.message_id) {
      finishAnswer(answer, data.answer != null ? data.answer : answer.text, data.message_id, data.stopped, extra);
    }
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
export function attachTurn(found, snapshot) {
  const turn = beginTurn(found.user, found.text, found.answer);
  turn.id = found.id;
  if (found.own) {
    turn.own = true;
    turn.key = found.key;
    turn.body = found.body;
  }
  keepTurn(turn);
  if (snapshot) return resume(turn, snapshot);
  api('GET', '/v1/turns/' + encodeURIComponent(turn.id)).then((current) => resume(turn, current), (error) => {
    if (turn.detached || turn.ended || error.status === 401) return;
    if (error.status === 404) {
      // Gone (its conversation was deleted): what is shown stays.
      forgetTurn(turn.id);
      handle(turn, 'done', { answer: turn.answer.text }, null);
      return;
    }
    turn.rebuild = true;
    listen(turn);
  });
  return undefined;
}

function resume(turn, snapshot) {
  if (turn.detached || turn.ended) return undefined;
  turn.taskId = snapshot.task_id || turn.taskId;
  if (snapshot.conversation_id) turn.conversationId = snapshot.conversation_id;
  if (isFinal(snapshot.status)) {
    if (snapshot.status === 'completed' || snapshot.status === 'stopped') {
      return handle(turn, 'done', {
        answer: snapshot.text, message_id: snapshot.message_id, conversation_id: snapshot.conversation_id,
        stopped: snapshot.status === 'stopped', metadata: snapshot.metadata,
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
  return undefined;
}

export function isFinal(status) {
  return status !== 'accepted' && status !== 'streaming';
}

export function endTurn(turn) {
  clearTimeout(turn.retryTimer);
  clearTimeout(turn.stallTimer);
  if (state.turn !== turn) return;
  state.turn = null;
  setBusy(false);
  refreshRegenerate();
}

export function stopStreaming() {
  const turn = state.turn;
  if (!turn || turn.stopRequested) return;
  turn.stopRequested = true;
  ui.stopButton.disabled = true;
  if (turn.taskId) requestStop(turn);
}

/* Dify stops the task; the stream then ends with `done` and `stopped: true`. If the stop itself fails,
   leaving the stream is the only stop left (the gateway still stores the whole answer). */
function requestStop(turn) {
  api('POST', '/v1/chat/' + encodeURIComponent(turn.taskId) + '/stop', {}).catch(() => {
    if (turn.ended || turn.detached) return;
    turn.leaving = true;
    if (turn.controller) turn.controller.abort();
    if (turn.retryTimer) handle(turn, 'done', { answer: turn.answer.text, stopped: true }, null);
  });
}

/* Leaving a conversation mid-answer: stop listening, not the answer (the gateway stores it, and this tab keeps
   the turn's id: coming back attaches to it again). */
export function detachStream() {
  const turn = state.turn;
  if (!turn) return;
  if (!turn.ended) keepTurn(turn);
  turn.detached = true;
  if (turn.controller) turn.controller.abort();
  clearTimeout(turn.saveTimer);
  endTurn(turn);
}

export function setBusy(busy) {
  // A control about to be disabled or hidden (Send, Stop) would drop the keyboard focus to the page.
  const focusWasOnControl = document.activeElement === ui.sendButton || document.activeElement === ui.stopButton;
  state.busy = busy;
  ui.messages.setAttribute('aria-busy', String(busy));
  updateControls();
  if (focusWasOnControl && (busy ? ui.stopButton : ui.composerInput) !== document.activeElement) {
    (busy ? ui.stopButton : ui.composerInput).focus();
  }
}

export function updateControls() {
  const uploading = !!ui.composer.querySelector('.attachment.uploading');
  ui.sendButton.disabled = state.busy || uploading || !ui.composerInput.value.trim();
  ui.stopButton.hidden = !state.busy;
  ui.stopButton.disabled = !state.busy || !!(state.turn && state.turn.stopRequested);
  ui.composer.classList.toggle('busy', state.busy);
}
