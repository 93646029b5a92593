/* One conversation: its history, a turn still running in it attached to, and what a reload left behind. */
import { api } from './api.js';
import { session, state, strings, ui } from './context.js';
import { element, scrollToEnd } from './dom.js';
import {
  addAssistantMessage, addUserMessage, clearMessages, finishAnswer, renderAnswer, showEmpty, version,
} from './messages.js';
import { renderConversationList, updateTitle } from './conversations.js';
import { closeSidebar } from './navigation.js';
import { attachTurn, beginTurn, detachStream, isFinal, post } from './stream.js';
import { forgetTurn, keepTurn, keptTurns, storeKept } from './turns.js';

const conversationKey = 'chat-gateway.conversation.' + (session && session.system) + '.' + (session && session.user);

/* The open conversation is kept per tab (sessionStorage: a reload reopens this tab's conversation) and for the
   next tab (localStorage). */
export function rememberConversation(id) {
  state.currentId = id;
  ['sessionStorage', 'localStorage'].forEach((name) => {
    try {
      if (id) window[name].setItem(conversationKey, id); else window[name].removeItem(conversationKey);
    } catch (e) { /* storage refused: the conversation just is not reopened on reload */ }
  });
}

export function rememberedConversation() {
  try { return sessionStorage.getItem(conversationKey) || localStorage.getItem(conversationKey); } catch (e) { return null; }
}

/* `quiet`: another tab asked in this conversation; the messages shown stay until the new ones arrive. */
export function openConversation(id, quiet) {
  let loading = null;
  let seq = state.loadSeq;
  if (!quiet) {
    detachStream();
    rememberConversation(id);
    updateTitle();
    clearMessages();
    loading = element('p', 'loading', strings.loading);
    ui.messages.appendChild(loading);
    seq = ++state.loadSeq;
  }
  api('GET', '/v1/conversations/' + encodeURIComponent(id) + '/messages').then((messages) => {
    if (seq !== state.loadSeq || state.currentId !== id) return;
    // A message sent while the history loaded stays, after it; a quiet refresh gives way to it.
    const sent = state.turn;
    if (quiet && sent) return;
    if (sent) loading.remove(); else clearMessages();
    const running = showMessages(messages.filter((m) => !sent || !m.turn_id || m.turn_id !== sent.id));
    const kept = keptTurns()[id];
    if (sent) {
      if (sent.user) ui.messages.appendChild(sent.user);
      ui.messages.appendChild(sent.answer.message);
    } else if (running) {
      attachTurn(running);
    } else if (kept && kept.turn_id) {
      checkKeptTurn(kept);
    } else if (kept) {
      // Sent just before a reload, in this conversation: shown above if the gateway got it, else sent again.
      const asked = messages.filter((m) => m.role === 'user').pop();
      if (asked && asked.content === kept.message) forgetTurn(null, kept.key); else resendKept(kept, id);
    }
    if (!messages.length && !sent && !running) showEmpty();
    scrollToEnd(true);
  }, (error) => {
    if (seq !== state.loadSeq || quiet) return;
    loading.remove();
    if (error.status === 404) { rememberConversation(null); showEmpty(); return; }
    ui.messages.appendChild(element('p', 'notice error', strings.errorMessages));
  });
}

/* The history; the rows of a turn still being answered (`turn_id`, status accepted or streaming) show its text so
   far and are returned, to attach to. */
function showMessages(messages) {
  let running = null;
  messages.forEach((message) => {
    const inProgress = !!message.turn_id && (message.status === 'accepted' || message.status === 'streaming');
    if (message.role === 'user') {
      const user = addUserMessage(message.content, message.files);
      if (inProgress) running = { id: message.turn_id, user, text: message.content, answer: null };
    } else if (inProgress) {
      const answer = addAssistantMessage();
      answer.text = message.content || '';
      renderAnswer(answer);
      if (running && running.id === message.turn_id) running.answer = answer;
      else running = { id: message.turn_id, user: null, text: '', answer };
    } else {
      const own = version(message);
      const versions = (message.siblings && message.siblings.length ? message.siblings : [message]).map(version);
      finishAnswer(addAssistantMessage(), own.content, own.id, false, {
        sources: own.sources, feedback: own.feedback, files: own.files, versions,
      });
    }
  });
  return running;
}

/* A turn this tab remembers in the open conversation that its messages do not show as running: attach to it if
   it still runs (the listing may lag behind), else forget it. */
function checkKeptTurn(kept) {
  const seq = state.loadSeq;
  api('GET', '/v1/turns/' + encodeURIComponent(kept.turn_id)).then((snapshot) => {
    if (seq !== state.loadSeq || state.turn) return;
    if (isFinal(snapshot.status)) { forgetTurn(kept.turn_id); return; }
    attachTurn({ id: kept.turn_id, user: addUserMessage(kept.message), text: kept.message }, snapshot);
    scrollToEnd(true);
  }, (error) => {
    if (error.status === 404) forgetTurn(kept.turn_id);
  });
}

/* Reloaded before the first answer of a new conversation named it: open the conversation it has now, or wait
   for it in a new chat. */
export function resumeNewConversation(kept) {
  showEmpty();
  const seq = state.loadSeq;
  function elsewhere() {
    const remembered = rememberedConversation();
    if (remembered) openConversation(remembered);
  }
  if (!kept.turn_id) {
    if (!resendKept(kept, null)) elsewhere();
    return;
  }
  api('GET', '/v1/turns/' + encodeURIComponent(kept.turn_id)).then((snapshot) => {
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
      elsewhere();
      return;
    }
    attachTurn({ id: kept.turn_id, user: addUserMessage(kept.message), text: kept.message }, snapshot);
  }, (error) => {
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
  const turn = beginTurn(addUserMessage(kept.message), kept.message, null);
  turn.own = true;
  turn.key = kept.key;
  turn.body = kept.body;
  turn.conversationId = conversationId;
  keepTurn(turn);
  post(turn);
  return true;
}

export function newChat() {
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
