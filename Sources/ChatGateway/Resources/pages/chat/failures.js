/* A message that could not be answered: the reason in the user's words, and Retry. */
import { newKey } from './api.js';
import { language, state, strings } from './context.js';
import { element, scrollToEnd, textButton } from './dom.js';
import { refreshRegenerate } from './actions.js';
import { restoreAttachments } from './attachments.js';
import { attachTurn, endTurn, send } from './stream.js';
import { forgetTurn } from './turns.js';

/* Upstream trouble (5xx, or no answer at all) is said in the user's language; a request the API refused
   (422: too long, 404: conversation gone) keeps the API's own reason, which says what to change. */
function failureReason(status, detail, budgetResets) {
  if (!status || status >= 500) return status === 504 ? strings.errorTimeout : strings.errorUnavailable;
  // A used-up budget is said in the user's language, with when it resets in their own time zone.
  if (status === 429 && budgetResets) {
    const resets = new Date(budgetResets);
    const when = isNaN(resets) ? budgetResets : resets.toLocaleString(language, { dateStyle: 'medium', timeStyle: 'short' });
    return strings.errorBudget.replace('{time}', when);
  }
  return detail || '';
}

/* `lostConnection`: the page could not reach the turn again. It may still be answered (a reload finds it), and
   Retry looks for it again (its turn id, else the same request with the same Idempotency-Key) rather than ask
   a second time. */
export function failTurn(turn, status, detail, budgetResets, lostConnection) {
  turn.ended = true;
  if (!lostConnection) forgetTurn(turn.id, turn.key);
  endTurn(turn);
  turn.answer.message.remove();
  if (turn.replaces) {
    // A regenerate that failed: the earlier answer stays, and the reason is said.
    turn.replaces.message.hidden = false;
    const problem = element('div', 'send-error');
    problem.setAttribute('role', 'alert');
    problem.appendChild(element('span', 'send-error-text', strings.errorSend + ' ' + failureReason(status, detail, budgetResets)));
    turn.replaces.body.appendChild(problem);
    setTimeout(() => problem.remove(), 8000);
    refreshRegenerate();
    return;
  }
  const user = turn.user;
  if (!user) return;
  user.classList.add('failed');
  const problem = element('div', 'send-error');
  problem.setAttribute('role', 'alert');
  problem.appendChild(element('span', 'send-error-text', strings.errorSend + ' ' + failureReason(status, detail, budgetResets)));
  problem.appendChild(textButton(strings.retry, 'button small retry', 'button', () => {
    if (state.busy) return;
    if (lostConnection && turn.id) {
      problem.remove();
      user.classList.remove('failed');
      attachTurn({ id: turn.id, user, text: turn.text, own: turn.own, key: turn.key, body: turn.body });
      return;
    }
    user.remove();
    if (lostConnection && turn.key) {
      send(turn.text, { key: turn.key, body: turn.body, shownFiles: turn.shownFiles });
    } else if (turn.body && turn.body.files) {
      // The files were uploaded once: the new request sends them again by their ids.
      send(turn.text, { key: newKey(), body: Object.assign({}, turn.body), shownFiles: turn.shownFiles });
    } else {
      send(turn.text);
    }
  }));
  user.appendChild(problem);
  scrollToEnd(true);
  if (status === 413 || status === 415) restoreAttachments(turn.shownFiles);
}

