/* What a person can do with an answer: copy, rate (dislike with a reason), hear it, regenerate it, and switch
   between its attempts ("⟨ 2/3 ⟩"). */
import { api } from './api.js';
import { format, state, strings, ui } from './context.js';
import { announce, element, icon, iconButton, labelButton, setIcon, textButton } from './dom.js';
import { showVersion } from './messages.js';
import { readAloud } from './voice.js';
import { regenerate } from './stream.js';

export function answerActions(answer) {
  const bar = element('div', 'message-actions');
  if (answer.versions.length > 1) bar.appendChild(versionSwitch(answer));
  bar.appendChild(copyButton(answer));
  feedbackButtons(answer).forEach((button) => bar.appendChild(button));
  if (state.features && state.features.text_to_speech && state.features.text_to_speech.enabled) {
    bar.appendChild(readAloudButton(answer));
  }
  return bar;
}

/* ⟨ 2/3 ⟩: the attempts of a regenerated answer, oldest first. */
function versionSwitch(answer) {
  const group = element('div', 'versions');
  group.setAttribute('role', 'group');
  const count = answer.versions.length;
  const index = answer.shown;
  const position = format(strings.answerPosition, { index: index + 1, count });
  group.setAttribute('aria-label', position);
  const previous = iconButton('chevronLeft', strings.previousAnswer, 'previous-version', () => switchTo(answer, index - 1, 'previous-version'));
  const next = iconButton('chevronRight', strings.nextAnswer, 'next-version', () => switchTo(answer, index + 1, 'next-version'));
  previous.disabled = index === 0;
  next.disabled = index === count - 1;
  const label = element('span', 'version-label', (index + 1) + '/' + count);
  label.setAttribute('aria-hidden', 'true');
  group.appendChild(previous);
  group.appendChild(label);
  group.appendChild(next);
  return group;
}

function switchTo(answer, index, focusClass) {
  if (index < 0 || index >= answer.versions.length) return;
  showVersion(answer, index);
  refreshRegenerate();
  announce(format(strings.answerPosition, { index: index + 1, count: answer.versions.length }));
  const again = answer.body.querySelector('.' + focusClass);
  (again && !again.disabled ? again : answer.body.querySelector('.versions button:not([disabled])') || ui.composerInput).focus();
}

/* Copies the answer as written (Markdown), which pastes well into notes and editors. */
function copyButton(answer) {
  const button = iconButton('copy', strings.copy, 'copy', () => {
    navigator.clipboard.writeText(answer.text).then(() => {
      labelButton(button, strings.copied);
      setIcon(button, 'check');
      announce(strings.copied);
      setTimeout(() => {
        labelButton(button, strings.copy);
        setIcon(button, 'copy');
      }, 2000);
    }, () => announce(strings.errorAction));
  });
  return button;
}

/* Like Dify: a dislike asks for a reason (optional); the same rating clicked again withdraws it. */
function feedbackButtons(answer) {
  const shown = answer.versions[answer.shown];
  const like = iconButton('thumbUp', strings.like, 'like', () => {
    if (shown.feedback === 'like') rate(null); else rate('like');
  });
  const dislike = iconButton('thumbDown', strings.dislike, 'dislike', () => {
    if (shown.feedback === 'dislike') rate(null); else askReason();
  });
  dislike.setAttribute('aria-expanded', 'false');
  function show() {
    like.setAttribute('aria-pressed', String(shown.feedback === 'like'));
    dislike.setAttribute('aria-pressed', String(shown.feedback === 'dislike'));
  }
  function rate(rating, reason) {
    const body = { rating };
    if (reason) body.content = reason;
    return api('POST', '/v1/messages/' + encodeURIComponent(shown.id) + '/feedbacks', body).then(() => {
      shown.feedback = rating;
      show();
      announce(rating ? strings.feedbackThanks : strings.feedbackWithdrawn);
    }, () => announce(strings.errorAction));
  }
  function askReason() {
    const open = answer.body.querySelector('.feedback-reason');
    if (open) { open.querySelector('textarea').focus(); return; }
    const form = element('form', 'feedback-reason');
    form.id = 'reason-' + Math.random().toString(36).slice(2);
    const label = element('label', 'feedback-reason-label', strings.dislikeReason);
    const field = element('textarea');
    field.rows = 2;
    field.maxLength = 1000;
    field.id = form.id + '-text';
    label.htmlFor = field.id;
    form.appendChild(label);
    form.appendChild(field);
    const buttons = element('div', 'feedback-reason-buttons');
    buttons.appendChild(textButton(strings.cancel, 'button small cancel', 'button', close));
    buttons.appendChild(textButton(strings.dislikeSend, 'button small primary send-reason', 'submit'));
    form.appendChild(buttons);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      rate('dislike', field.value.trim()).then(close);
    });
    form.addEventListener('keydown', (event) => { if (event.key === 'Escape') close(); });
    dislike.setAttribute('aria-expanded', 'true');
    dislike.setAttribute('aria-controls', form.id);
    answer.body.appendChild(form);
    field.focus();
    function close() {
      form.remove();
      dislike.setAttribute('aria-expanded', 'false');
      if (dislike.isConnected) dislike.focus();
    }
  }
  show();
  return [like, dislike];
}

function readAloudButton(answer) {
  const button = iconButton('speaker', strings.readAloud, 'read-aloud', () => {
    readAloud(answer.versions[answer.shown].id, button);
  });
  button.setAttribute('aria-pressed', 'false');
  return button;
}

/* Only the last answer can be regenerated (the question is asked again at the end of the conversation), and only
   when nothing is being answered. */
export function refreshRegenerate() {
  ui.messages.querySelectorAll('.message-actions .regenerate').forEach((button) => button.remove());
  if (state.busy) return;
  const answers = ui.messages.querySelectorAll('.message.assistant:not(.opening-statement)');
  const last = answers[answers.length - 1];
  const bar = last && last.querySelector('.message-actions');
  if (!bar || !last.answer || !last.answer.id) return;
  const button = iconButton('retry', strings.regenerate, 'regenerate', () => regenerate(last.answer));
  bar.appendChild(button);
}

