/* Files attached to the next message: checked against the app's limits (`uploads` of `GET /v1/parameters`:
   types, extensions, count, size) before anything is sent, previewed, and uploaded at once
   (`POST /v1/files/upload`); the message then names them by their upload ids. */
import { upload } from './api.js';
import { format, state, strings, ui } from './context.js';
import { element, humanSize, icon, iconButton, note } from './dom.js';
import { updateControls } from './stream.js';

// The order in which the gateway gives a file its Dify type (`UploadRules.type(ofFileNamed:)`).
const TYPE_ORDER = ['image', 'document', 'audio', 'video', 'custom'];

let items = [];

export function bindAttachments() {
  ui.attachButton.addEventListener('click', () => ui.fileInput.click());
  ui.fileInput.addEventListener('change', () => {
    addFiles(Array.from(ui.fileInput.files || []));
    ui.fileInput.value = '';
  });
  ui.composerInput.addEventListener('paste', (event) => {
    const files = Array.from((event.clipboardData && event.clipboardData.files) || []);
    if (!files.length || ui.attachButton.hidden) return;
    event.preventDefault();
    addFiles(files);
  });
  ui.composer.addEventListener('dragover', (event) => {
    if (!ui.attachButton.hidden && event.dataTransfer && Array.from(event.dataTransfer.types).indexOf('Files') >= 0) event.preventDefault();
  });
  ui.composer.addEventListener('drop', (event) => {
    if (ui.attachButton.hidden || !event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    addFiles(Array.from(event.dataTransfer.files));
  });
}

function extensionOf(name) {
  const match = /\.[^.\\/]+$/.exec(name || '');
  return match ? match[0].toLowerCase() : '';
}

/* The file's Dify type as the gateway decides it (`uploads.accept`: each allowed type's extensions, `*` for any),
   or null when the app takes no such file. */
function typeOf(extension, uploads) {
  const accept = uploads.accept || {};
  return TYPE_ORDER.filter((type) => (accept[type] || []).some((e) => e === extension || e === '*'))[0] || null;
}

/* The file picker's `accept`: every extension the app takes (nothing, so any file, when it takes any). */
export function acceptedTypes(uploads) {
  const extensions = [].concat(...Object.values(uploads.accept || {}));
  return extensions.indexOf('*') >= 0 ? '' : Array.from(new Set(extensions)).join(',');
}

/* Why the page refuses a file, or null: the same limits the gateway enforces (it would answer 413 or 415). */
function refusal(file, uploads, count) {
  const type = typeOf(extensionOf(file.name), uploads);
  if (count >= (uploads.number_limits || 1)) return format(strings.fileTooMany, { count: uploads.number_limits || 1 });
  if (!type) return format(strings.fileRefused, { name: file.name });
  const limit = (uploads.size_limits || {})[type];
  if (limit && file.size > limit) return format(strings.fileTooLarge, { name: file.name, size: humanSize(limit) });
  return null;
}

export function addFiles(files) {
  const uploads = state.features && state.features.uploads;
  if (!uploads || !uploads.enabled) return;
  const problems = [];
  files.forEach((file) => {
    const problem = refusal(file, uploads, items.length);
    if (problem) { problems.push(problem); return; }
    start(file, typeOf(extensionOf(file.name), uploads));
  });
  note(problems.join(' '), !!problems.length);
  updateControls();
}

function start(file, type) {
  const item = { file, type, name: file.name, id: null, url: type === 'image' ? URL.createObjectURL(file) : null, node: null };
  item.node = trayItem(item);
  item.node.classList.add('uploading');
  items.push(item);
  renderTray();
  upload('/v1/files/upload', file).then((uploaded) => {
    item.id = uploaded.id;
    item.type = uploaded.type || type;
    item.node.classList.remove('uploading');
    item.node.querySelector('.attachment-state').textContent = '';
    updateControls();
  }, (error) => {
    remove(item);
    // The gateway's reason (size, type) is precise; without one, the page's own words.
    note(error.status === 413 || error.status === 415 || error.status === 400 ? error.message : format(strings.uploadFailed, { name: file.name }), true);
  });
}

function trayItem(item) {
  const node = element('li', 'attachment');
  if (item.url) {
    const preview = element('img', 'attachment-preview');
    preview.src = item.url;
    preview.alt = '';
    node.appendChild(preview);
  } else {
    node.appendChild(icon('file'));
  }
  node.appendChild(element('span', 'attachment-name', item.name));
  node.appendChild(element('span', 'attachment-state visually-hidden', strings.uploading));
  node.appendChild(iconButton('close', format(strings.removeFile, { name: item.name }), 'remove-attachment', () => {
    remove(item);
    if (item.url) URL.revokeObjectURL(item.url);
    ui.composerInput.focus();
  }));
  return node;
}

function remove(item) {
  items = items.filter((other) => other !== item);
  renderTray();
  updateControls();
}

function renderTray() {
  ui.attachmentTray.textContent = '';
  items.forEach((item) => ui.attachmentTray.appendChild(item.node));
  ui.attachmentTray.hidden = !items.length;
}

/* The uploaded files for the message being sent ({id, type, name, url}), the tray emptied; null while one is
   still uploading. */
export function takeAttachments() {
  if (items.some((item) => !item.id)) return null;
  const taken = items.map((item) => ({ id: item.id, type: item.type, name: item.name, url: item.url }));
  items = [];
  renderTray();
  note('');
  return taken;
}

/* Files of a message the gateway refused, back in the tray to send again or remove. */
export function restoreAttachments(files) {
  (files || []).forEach((file) => {
    const item = { file: null, type: file.type, name: file.name, id: file.id, url: file.url, node: null };
    item.node = trayItem(item);
    items.push(item);
  });
  renderTray();
  updateControls();
}
