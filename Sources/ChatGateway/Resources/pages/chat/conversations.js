/* The conversation list: newest first, with rename and delete; the first message of a new one names it. */
import { api } from './api.js';
import { language, state, strings, ui } from './context.js';
import { announce, element, iconButton, textButton } from './dom.js';
import { newChat, openConversation, rememberConversation } from './conversation.js';
import { closeSidebar } from './navigation.js';

export function loadConversations() {
  return api('GET', '/v1/conversations').then((list) => {
    state.conversations = list;
    ui.listStatus.textContent = '';
    renderConversationList();
    updateTitle();
  }, () => {
    ui.listStatus.textContent = strings.errorList;
  });
}

function conversationName(conversation) {
  return (conversation && conversation.name && conversation.name.trim()) || strings.untitled;
}

export function renderConversationList() {
  const list = ui.conversationList;
  list.textContent = '';
  state.conversations.forEach((conversation) => {
    const item = element('li', 'conversation');
    item.setAttribute('data-id', conversation.id);
    const editing = state.editing && state.editing.id === conversation.id ? state.editing.kind : null;
    if (conversation.id === state.currentId) item.classList.add('current');
    if (editing === 'rename') item.appendChild(renameForm(conversation));
    else if (editing === 'delete') item.appendChild(deleteConfirmation(conversation));
    else item.appendChild(conversationRow(conversation));
    list.appendChild(item);
  });
}

function conversationRow(conversation) {
  const row = element('div', 'conversation-row');
  const open = element('button', 'conversation-open');
  open.type = 'button';
  if (conversation.id === state.currentId) open.setAttribute('aria-current', 'page');
  open.appendChild(element('span', 'conversation-name', conversationName(conversation)));
  if (conversation.created_at) {
    open.appendChild(element('span', 'conversation-date', new Date(conversation.created_at * 1000).toLocaleDateString(language, { month: 'short', day: 'numeric' })));
  }
  open.addEventListener('click', () => selectConversation(conversation.id));
  row.appendChild(open);
  row.appendChild(iconButton('pencil', strings.rename + ': ' + conversationName(conversation), 'rename', () => {
    state.editing = { id: conversation.id, kind: 'rename' };
    renderConversationList();
    const input = ui.conversationList.querySelector('.rename-form input');
    input.focus();
    input.select();
  }));
  row.appendChild(iconButton('trash', strings.delete + ': ' + conversationName(conversation), 'delete', () => {
    state.editing = { id: conversation.id, kind: 'delete' };
    renderConversationList();
    ui.conversationList.querySelector('.delete-confirm .cancel').focus();
  }));
  return row;
}

function renameForm(conversation) {
  const form = element('form', 'rename-form');
  const input = element('input');
  input.type = 'text';
  input.value = conversationName(conversation);
  input.maxLength = 512;
  input.setAttribute('aria-label', strings.renameLabel);
  form.appendChild(input);
  form.appendChild(textButton(strings.save, 'button small primary save', 'submit'));
  form.appendChild(textButton(strings.cancel, 'button small cancel', 'button', stopEditing));
  input.addEventListener('keydown', (event) => { if (event.key === 'Escape') stopEditing(); });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name) { stopEditing(); return; }
    api('POST', '/v1/conversations/' + conversation.id + '/name', { name }).then((renamed) => {
      conversation.name = renamed.name;
      stopEditing();
      updateTitle();
    }, () => announce(strings.errorAction));
  });
  return form;
}

function deleteConfirmation(conversation) {
  const box = element('div', 'delete-confirm');
  box.setAttribute('role', 'group');
  box.setAttribute('aria-label', strings.deleteConfirm);
  box.appendChild(element('span', 'delete-question', strings.deleteConfirm));
  box.appendChild(textButton(strings.delete, 'button small danger confirm', 'button', () => {
    api('DELETE', '/v1/conversations/' + conversation.id).then(() => {
      state.conversations = state.conversations.filter((c) => c.id !== conversation.id);
      state.editing = null;
      if (state.currentId === conversation.id) newChat();
      renderConversationList();
      ui.composerInput.focus();
    }, () => announce(strings.errorAction));
  }));
  box.appendChild(textButton(strings.cancel, 'button small cancel', 'button', stopEditing));
  box.addEventListener('keydown', (event) => { if (event.key === 'Escape') stopEditing(); });
  return box;
}

function stopEditing() {
  const id = state.editing && state.editing.id;
  state.editing = null;
  renderConversationList();
  const row = id && ui.conversationList.querySelector('[data-id="' + CSS.escape(id) + '"] .conversation-open');
  if (row) row.focus();
}

function selectConversation(id) {
  closeSidebar();
  if (id === state.currentId) return;
  openConversation(id);
  renderConversationList();
}

export function updateTitle() {
  const current = state.conversations.filter((c) => c.id === state.currentId)[0];
  ui.chatTitle.textContent = current ? conversationName(current) : strings.newChat;
}

/* A name from the first message: whole words up to `limit` characters, then an ellipsis; text without spaces
   (Chinese, Japanese) is cut between graphemes, never inside one (an emoji, a letter and its accent). */
function provisionalName(text, limit) {
  const clean = text.replace(/\s+/g, ' ').trim();
  const graphemes = typeof Intl !== 'undefined' && Intl.Segmenter
    ? Array.from(new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(clean), (s) => s.segment)
    : Array.from(clean);
  if (graphemes.length <= limit) return clean;
  let kept = graphemes.slice(0, limit);
  const lastSpace = kept.lastIndexOf(' ');
  if (graphemes[limit] !== ' ' && lastSpace > limit / 2) kept = kept.slice(0, lastSpace);
  return kept.join('').trim() + '\u2026';
}

/* The first answer of a new conversation names it: list it at once, the real name follows after `done`. */
export function startedConversation(id, text) {
  rememberConversation(id);
  if (!state.conversations.some((c) => c.id === id)) {
    state.conversations.unshift({ id, name: provisionalName(text, 75), created_at: Math.floor(Date.now() / 1000) });
  }
  renderConversationList();
  updateTitle();
}
