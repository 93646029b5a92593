/* What every part of the page shares: the session boot.js decided on, the page's texts, the elements, the state. */

const boot = window.ChatGatewayBoot;

export const session = boot.session;
export const strings = boot.strings;
export const mode = boot.mode;
export const language = boot.language;
export const SESSION_KEY = boot.sessionKey;
export const tokenIsCurrent = boot.tokenIsCurrent;
export const showError = boot.showError;

/* The page's fixed elements, by camel-cased id (`composer-input` is `ui.composerInput`). */
export const ui = {};

export const state = {
  conversations: [],
  currentId: null,
  busy: false,
  turn: null,        // the answer being streamed or attached to (see stream.js)
  composing: false,  // an IME composition is open: Enter belongs to it
  editing: null,     // {id, kind: 'rename'|'delete'}
  loadSeq: 0,
  features: null,    // the app's settings (`GET /v1/parameters`), null until known
};

/* `{name}`-style placeholders of a text, filled in. */
export function format(text, values) {
  return String(text || '').replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

export function collectElements() {
  document.querySelectorAll('#app [id]').forEach((node) => {
    ui[node.id.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = node;
  });
}
