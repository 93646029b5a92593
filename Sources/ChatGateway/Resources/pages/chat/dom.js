/* Small DOM helpers: every element the page makes goes through these, never through HTML text. */
import { ui } from './context.js';

const ICONS = {
  pencil: 'M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4',
  trash: 'M5 7h14M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3',
  thumbUp: 'M7 11v9H4v-9h3zm0 0l4-7c1.5 0 2.5 1 2.2 2.6L12.6 10H18a2 2 0 0 1 2 2.3l-1.2 6A2 2 0 0 1 16.8 20H7',
  thumbDown: 'M17 13V4h3v9h-3zm0 0l-4 7c-1.5 0-2.5-1-2.2-2.6l.6-3.4H6a2 2 0 0 1-2-2.3l1.2-6A2 2 0 0 1 7.2 4H17',
  retry: 'M4 12a8 8 0 1 0 2.4-5.7M4 4v4h4',
  copy: 'M9 9h10v11H9zM5 15V4h10',
  check: 'M5 12.5l4.5 4.5L19 7',
  spark: 'M12 3l1.8 5.2L19 10l-5.2 1.8L12 17l-1.8-5.2L5 10l5.2-1.8z',
  speaker: 'M4 9v6h4l5 4V5L8 9H4zM16 9a4 4 0 0 1 0 6M18.5 6.5a7.5 7.5 0 0 1 0 11',
  stop: 'M7 7h10v10H7z',
  chevronLeft: 'M15 6l-6 6 6 6',
  chevronRight: 'M9 6l6 6-6 6',
  file: 'M7 3h7l5 5v13H7zM14 3v5h5',
  close: 'M6 6l12 12M18 6L6 18',
  book: 'M5 4h10a3 3 0 0 1 3 3v13H8a3 3 0 0 1-3-3zM5 17a3 3 0 0 1 3-3h10',
  steps: 'M5 6h14M5 12h10M5 18h6',
};

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function textButton(label, className, type, onClick) {
  const button = element('button', className, label);
  button.type = type;
  if (onClick) button.addEventListener('click', onClick);
  return button;
}

export function iconButton(name, label, role, onClick) {
  const button = element('button', 'icon-button ' + role);
  button.type = 'button';
  labelButton(button, label);
  button.appendChild(icon(name));
  if (onClick) button.addEventListener('click', onClick);
  return button;
}

export function labelButton(button, label) {
  button.setAttribute('aria-label', label);
  button.title = label;
}

export function setIcon(button, name) {
  const old = button.querySelector('svg.icon');
  if (old) old.replaceWith(icon(name)); else button.appendChild(icon(name));
}

export function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.appendChild(path);
  return svg;
}

export function announce(text) {
  ui.announcer.textContent = '';
  // A fresh text node after a tick makes screen readers announce the same text twice in a row.
  setTimeout(() => { ui.announcer.textContent = text; }, 30);
}

/* The line under the composer (a file refused, the microphone's state), read out as it changes. */
export function note(text, isError) {
  ui.composerNote.textContent = text || '';
  ui.composerNote.classList.toggle('error', !!isError);
  if (text) announce(text);
}

export function scrollToEnd(force) {
  const box = ui.messages;
  const nearEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  if (force || nearEnd) box.scrollTop = box.scrollHeight;
}

/* A size in the units people read: "2.5 MB". */
export function humanSize(bytes) {
  if (bytes >= 1048576) return (Math.round(bytes / 104857.6) / 10) + ' MB';
  if (bytes >= 1024) return Math.round(bytes / 1024) + ' KB';
  return bytes + ' B';
}

/* A URL the page may show as an image under its CSP (img-src 'self' data: blob:); other hosts get a link. */
export function isShowableImage(url) {
  try {
    const parsed = new URL(url, location.href);
    return parsed.origin === location.origin || parsed.protocol === 'blob:' || /^data:image\/(png|jpe?g|gif|webp);/i.test(url);
  } catch (e) {
    return false;
  }
}

/* Only web links leave the page: no javascript:, data: or other schemes from an answer or a listing. */
export function safeHref(url) {
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch (e) {
    return null;
  }
}
