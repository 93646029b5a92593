/* The message view: questions, answers and what comes with an answer (actions, sources, files, suggestions). */
import { api } from './api.js';
import { language, mode, state, strings, ui } from './context.js';
import { element, icon, scrollToEnd, textButton } from './dom.js';
import { renderMarkdown } from './render.js';
import { answerActions, refreshRegenerate } from './actions.js';
import { fileList } from './files.js';
import { send } from './stream.js';

export function clearMessages() {
  ui.messages.textContent = '';
}

/* A new conversation: the app's opening statement and starter questions, else a hint. */
export function showEmpty() {
  clearMessages();
  const features = state.features || {};
  const opening = (features.opening_statement || '').trim();
  const starters = (features.suggested_questions || []).filter((q) => typeof q === 'string' && q.trim());
  if (!opening && !starters.length) {
    ui.emptyState.textContent = mode === 'embed' ? strings.empty : strings.emptyFull;
    ui.messages.appendChild(ui.emptyState);
    return;
  }
  const block = element('div', 'opening');
  block.id = 'opening';
  if (opening) {
    const answer = addAssistantMessage(block);
    answer.message.classList.add('opening-statement');
    answer.text = opening;
    renderAnswer(answer);
  }
  if (starters.length) {
    const group = element('div', 'suggestions starters');
    group.setAttribute('role', 'group');
    group.setAttribute('aria-label', strings.starters);
    group.appendChild(element('span', 'suggestions-label', strings.starters));
    starters.forEach((question) => {
      group.appendChild(textButton(question, 'chip', 'button', () => send(question)));
    });
    block.appendChild(group);
  }
  ui.messages.appendChild(block);
}

function leaveEmpty() {
  ui.emptyState.remove();
  const opening = ui.messages.querySelector('#opening');
  if (opening) opening.remove();
}

/* `files`: what the user attached ({type, url or preview, name}). */
export function addUserMessage(text, files) {
  leaveEmpty();
  const message = element('div', 'message user');
  message.appendChild(element('span', 'visually-hidden', strings.you + ':'));
  if (files && files.length) message.appendChild(fileList(files, 'user-files'));
  message.appendChild(element('div', 'bubble', text));
  ui.messages.appendChild(message);
  return message;
}

/* An answer's elements and what the page knows of it; appended to `parent` (the message list by default). */
export function addAssistantMessage(parent) {
  leaveEmpty();
  const message = element('div', 'message assistant');
  const avatar = element('div', 'avatar');
  avatar.setAttribute('aria-hidden', 'true');
  avatar.appendChild(icon('spark'));
  message.appendChild(avatar);
  const body = element('div', 'message-body');
  body.appendChild(element('span', 'visually-hidden', strings.assistant + ':'));
  const content = element('div', 'content markdown');
  body.appendChild(content);
  message.appendChild(body);
  (parent || ui.messages).appendChild(message);
  const answer = { message, body, content, text: '', id: null, versions: null, shown: 0, files: [] };
  message.answer = answer;
  return answer;
}

export function renderAnswer(answer) {
  answer.content.textContent = '';
  answer.content.appendChild(renderMarkdown(answer.text, {
    inlineMath: !!(state.features && state.features.inline_math),
    strings: { copyCode: strings.copyCode, copied: strings.copied, reasoning: strings.reasoning },
  }));
}

export function showTyping(answer, label) {
  let typing = answer.body.querySelector('.typing');
  if (!typing) {
    typing = element('div', 'typing');
    typing.setAttribute('aria-hidden', 'true');
    for (let i = 0; i < 3; i++) typing.appendChild(element('span', 'dot'));
    typing.appendChild(element('span', 'typing-label'));
    answer.body.appendChild(typing);
  }
  typing.querySelector('.typing-label').textContent = label || '';
}

/* A stored version of an answer, as the messages API lists it (or as a finished stream describes it). */
export function version(row) {
  return {
    id: row.id || null,
    content: row.content || '',
    sources: row.retriever_resources || [],
    feedback: (row.feedback && row.feedback.rating) || null,
    files: row.files || [],
  };
}

/* The answer complete: its text, sources and files, and its actions once it has an id. `versions`: every
   attempt at it (regenerated answers), the one shown last. */
export function finishAnswer(answer, text, messageId, stopped, extra) {
  extra = extra || {};
  const typing = answer.body.querySelector('.typing');
  if (typing) typing.remove();
  const steps = answer.body.querySelector('.steps');
  if (steps) steps.open = false;
  const current = {
    id: messageId || null, content: text, sources: extra.sources || [], feedback: extra.feedback || null,
    files: (extra.files || []).concat(answer.files || []),
  };
  answer.versions = extra.versions && extra.versions.length ? extra.versions : [current];
  answer.versions[answer.versions.length - 1] = Object.assign(answer.versions[answer.versions.length - 1], current);
  answer.stopped = !!stopped;
  showVersion(answer, answer.versions.length - 1);
  refreshRegenerate();
}

/* Shows one attempt of an answer: its text, files, sources, and actions that act on that attempt. */
export function showVersion(answer, index) {
  const shown = answer.versions[index];
  answer.shown = index;
  answer.id = shown.id;
  answer.text = shown.content;
  renderAnswer(answer);
  answer.body.querySelectorAll('.answer-files, .sources, .message-actions, .notice.stopped').forEach((n) => n.remove());
  if (shown.files.length) answer.body.appendChild(fileList(shown.files, 'answer-files'));
  if (answer.stopped && index === answer.versions.length - 1) answer.body.appendChild(element('p', 'notice stopped', strings.stopped));
  if (shown.sources.length) answer.body.appendChild(sourceList(shown.sources));
  if (shown.id) answer.body.appendChild(answerActions(answer));
}

/* ---- sources: the documents an answer was built from ---- */

export function sourceList(resources) {
  const details = element('details', 'sources');
  const summary = element('summary', 'sources-summary');
  summary.appendChild(icon('book'));
  summary.appendChild(element('span', null, strings.sources + ' (' + resources.length + ')'));
  details.appendChild(summary);
  const list = element('ol', 'source-list');
  resources.slice().sort((a, b) => (a.position || 0) - (b.position || 0)).forEach((resource) => {
    const item = element('li', 'source');
    const head = element('div', 'source-head');
    const name = resource.document_name || resource.dataset_name || strings.file;
    const href = typeof resource.url === 'string' && /^https?:\/\//i.test(resource.url) ? resource.url : null;
    if (href) {
      const link = element('a', 'source-name', name);
      link.href = href;
      link.target = '_blank';
      link.rel = 'noopener noreferrer nofollow';
      head.appendChild(link);
    } else {
      head.appendChild(element('span', 'source-name', name));
    }
    if (typeof resource.score === 'number') {
      head.appendChild(element('span', 'source-score', strings.score.replace('{score}', resource.score.toLocaleString(language, { maximumFractionDigits: 2 }))));
    }
    item.appendChild(head);
    if (resource.content) {
      const quote = element('blockquote', 'source-quote', resource.content.length > 600 ? resource.content.slice(0, 600) + '\u2026' : resource.content);
      item.appendChild(quote);
    }
    list.appendChild(item);
  });
  details.appendChild(list);
  return details;
}

/* ---- suggested follow-ups ---- */

export function showSuggestions(messageId) {
  const seq = state.loadSeq;
  api('GET', '/v1/messages/' + encodeURIComponent(messageId) + '/suggested').then((reply) => {
    const questions = (reply && reply.data) || [];
    // Too late if the user has moved to another conversation or already asked the next question.
    if (!questions.length || state.busy || seq !== state.loadSeq) return;
    removeSuggestions();
    const group = element('div', 'suggestions');
    group.setAttribute('role', 'group');
    group.setAttribute('aria-label', strings.suggestions);
    questions.forEach((question) => {
      group.appendChild(textButton(question, 'chip', 'button', () => send(question)));
    });
    ui.messages.appendChild(group);
    scrollToEnd(false);
  }, () => { /* suggestions are optional: an app without them simply shows none */ });
}

export function removeSuggestions() {
  const old = ui.messages.querySelector('.suggestions:not(.starters)');
  if (old) old.remove();
}

/* ---- agent steps and chatflow progress, while the answer streams ---- */

export function showStep(answer, key, text) {
  let steps = answer.body.querySelector('.steps');
  if (!steps) {
    steps = element('details', 'steps');
    const summary = element('summary', 'steps-summary');
    summary.appendChild(icon('steps'));
    summary.appendChild(element('span', 'steps-title', strings.steps));
    summary.appendChild(element('span', 'steps-last'));
    steps.appendChild(summary);
    steps.appendChild(element('ol', 'steps-list'));
    answer.body.insertBefore(steps, answer.content);
  }
  const list = steps.querySelector('.steps-list');
  let item = Array.prototype.find.call(list.children, (li) => li.getAttribute('data-key') === key);
  if (!item) {
    item = element('li', 'step');
    item.setAttribute('data-key', key);
    list.appendChild(item);
  }
  item.textContent = text;
  steps.querySelector('.steps-last').textContent = text;
}
