/* "Download my data", when the system offers it (`self_export` in the app's settings): the signed-in user's own
   export (`GET /v1/me/export`), fetched with the page's token and saved under the file name the server gives.
   Full mode has the button at the foot of the sidebar (in the drawer on a phone), embedded mode an icon in the header. */
import { fetchAttachment } from './api.js';
import { format, mode, session, strings, ui } from './context.js';
import { announce, note } from './dom.js';

let exporting = false;

export function bindDataExport() {
  document.querySelectorAll('[data-action="download-data"]').forEach((button) => button.addEventListener('click', downloadData));
}

export function applyDataExport(features) {
  const offered = !!(features && features.self_export);
  ui.sidebarFoot.hidden = !offered;
  ui.headDownload.hidden = !offered;
}

function buttons() {
  return document.querySelectorAll('[data-action="download-data"]');
}

/* Busy: the buttons say so (aria-busy) and ignore clicks, but stay focusable, so the focus is not lost. */
function setBusy(busy) {
  exporting = busy;
  buttons().forEach((button) => {
    if (busy) button.setAttribute('aria-busy', 'true'); else button.removeAttribute('aria-busy');
    button.setAttribute('aria-disabled', String(busy));
  });
  ui.headDownload.classList.toggle('loading', busy);
  ui.dataExport.querySelector('.data-export-label').textContent = busy ? strings.downloadingData : strings.downloadData;
}

/* What happened, where the user looks: under the sidebar's button, or (embedded) the line under the composer. */
function report(text, isError) {
  if (mode === 'embed') {
    if (isError) note(text, true); else announce(text);
    return;
  }
  ui.dataExportStatus.textContent = text;
  ui.dataExportStatus.classList.toggle('error', !!isError);
}

function downloadData() {
  if (exporting) return;
  setBusy(true);
  report('');
  const fallback = (session.system || 'chat') + '-export.json';
  fetchAttachment('/v1/me/export?format=json', fallback).then(({ blob, name }) => {
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = name;
    link.hidden = true;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    report(format(strings.downloadedData, { file: name }), false);
  }, () => {
    report(strings.errorDownload, true);
  }).finally(() => setBusy(false));
}
