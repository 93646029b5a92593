/*
 * The chat page's app, an ES module started once the document is parsed (boot.js has already taken the session).
 * Its parts: conversations.js (the list), conversation.js (one conversation's history), messages.js and
 * actions.js (the message view), composer.js with attachments.js and voice.js, stream.js (sending and the stream
 * reader), render.js (answers to DOM), data-export.js ("Download my data").
 */
import { api } from './api.js';
import { collectElements, session, state, ui } from './context.js';
import { bindComposer, applyFeatures } from './composer.js';
import { openConversation, rememberedConversation, resumeNewConversation } from './conversation.js';
import { loadConversations } from './conversations.js';
import { showEmpty, showVersion } from './messages.js';
import { refreshRegenerate } from './actions.js';
import { bindNavigation } from './navigation.js';
import { applyDataExport, bindDataExport } from './data-export.js';
import { reconnectNow, updateControls } from './stream.js';
import { keepTurn, keptTurns, openChannel } from './turns.js';
import { bindReadAloud } from './voice.js';

if (session) start();

function start() {
  collectElements();
  ui.app = document.getElementById('app');
  document.getElementById('error-page').hidden = true;
  ui.app.hidden = false;
  bindComposer();
  bindNavigation();
  bindDataExport();
  bindReadAloud();
  openChannel((note) => {
    if (!state.editing) loadConversations();
    if (note.type === 'turn' && note.conversation_id && note.conversation_id === state.currentId && !state.turn) {
      openConversation(state.currentId, true);
    }
  });
  window.addEventListener('pagehide', () => { if (state.turn) keepTurn(state.turn); });
  window.addEventListener('online', reconnectNow);
  const pending = keptTurns()[''];
  const remembered = rememberedConversation();
  if (pending) resumeNewConversation(pending);
  else if (remembered) openConversation(remembered); else showEmpty();
  // Embedded there is no list to show, but the header still names the open conversation.
  loadConversations();
  loadFeatures();
  updateControls();
  ui.composerInput.focus({ preventScroll: true });
}

/* The app's settings decide what the page offers; until they are known (or if they cannot be), only the basics. */
function loadFeatures() {
  api('GET', '/v1/parameters').then((features) => {
    state.features = features || {};
    ui.app.classList.toggle('inline-math', !!state.features.inline_math);
    applyFeatures(state.features);
    applyDataExport(state.features);
    // A new chat still showing its hint gets the opening statement and starter questions; answers shown before
    // the settings came get what they allow (read aloud, inline math).
    if (!state.currentId && !state.turn && ui.emptyState.isConnected) showEmpty();
    ui.messages.querySelectorAll('.message.assistant').forEach((message) => {
      if (message.answer && message.answer.versions) showVersion(message.answer, message.answer.shown);
    });
    refreshRegenerate();
  }, () => { state.features = {}; });
}
