/* Turns kept for a reload (per tab, in sessionStorage, by conversation: '' for a new one not named yet), and the
   user's other tabs told when a turn starts or ends (BroadcastChannel). */
import { session } from './context.js';

// The turns this tab streams, by conversation, so a reload finds them again.
const turnsKey = 'chat-gateway.turns.' + (session && session.system) + '.' + (session && session.user);
let channel = null;

export function keptTurns() {
  try { return JSON.parse(sessionStorage.getItem(turnsKey) || '{}') || {}; } catch (e) { return {}; }
}

function storeTurns(turns) {
  try {
    if (Object.keys(turns).length) sessionStorage.setItem(turnsKey, JSON.stringify(turns));
    else sessionStorage.removeItem(turnsKey);
  } catch (e) { /* storage refused: a reload finds a running turn through the conversation's messages only */ }
}

export function storeKept(conversationId, kept) {
  const turns = keptTurns();
  turns[conversationId || ''] = kept;
  storeTurns(turns);
}

/* Its id, conversation, question and the id of the last event applied; until the gateway names it, the request
   itself (to send again with the same Idempotency-Key). */
export function keepTurn(turn) {
  if (turn.ended || !(turn.id || turn.own)) return;
  const turns = keptTurns();
  Object.keys(turns).forEach((k) => {
    // One per conversation; and a day is more than any answer takes.
    if (sameTurn(turns[k], turn.id, turn.key) || !(Date.now() - turns[k].at < 86400000)) delete turns[k];
  });
  const kept = {
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

export function keepProgress(turn) {
  if (turn.saveTimer || turn.ended) return;
  turn.saveTimer = setTimeout(() => {
    turn.saveTimer = null;
    if (!turn.detached) keepTurn(turn);
  }, 1000);
}

export function forgetTurn(id, key) {
  const turns = keptTurns();
  let changed = false;
  Object.keys(turns).forEach((k) => {
    if (sameTurn(turns[k], id, key)) {
      delete turns[k];
      changed = true;
    }
  });
  if (changed) storeTurns(turns);
}

/* `onNote` hears the other tabs: {type: 'turn'|'ended', conversation_id, turn_id}. */
export function openChannel(onNote) {
  if (typeof BroadcastChannel !== 'function') return;
  try { channel = new BroadcastChannel('chat-gateway.' + session.system + '.' + session.user); } catch (e) { return; }
  channel.onmessage = (event) => {
    const note = event.data || {};
    if (note.type === 'turn' || note.type === 'ended') onNote(note);
  };
}

export function tellOtherTabs(type, turn) {
  if (!channel) return;
  try { channel.postMessage({ type, conversation_id: turn.conversationId, turn_id: turn.id }); } catch (e) { /* closed */ }
}
