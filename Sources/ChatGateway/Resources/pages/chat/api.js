/* Calls to the gateway's API as the token's user. */
import { session, SESSION_KEY, tokenIsCurrent, showError } from './context.js';

function authorization() {
  return 'Bearer ' + session.token;
}

/* JSON in, JSON out; a refused call throws an Error carrying the status and the API's `detail`. */
export function api(method, path, body, signal) {
  const headers = { Authorization: authorization(), Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(path, {
    method, headers, signal, cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then((response) => {
    if (response.ok) return response.status === 204 ? null : response.json();
    return failure(response);
  });
}

/* One file as multipart (`file`), for uploads and voice input. */
export function upload(path, file, name) {
  const form = new FormData();
  form.append('file', file, name || file.name);
  return fetch(path, {
    method: 'POST', body: form, cache: 'no-store',
    headers: { Authorization: authorization(), Accept: 'application/json' },
  }).then((response) => (response.ok ? response.json() : failure(response)));
}

/* A binary answer (read-aloud audio) as a Blob. */
export function fetchBlob(method, path, body) {
  return fetch(path, {
    method, cache: 'no-store', body: JSON.stringify(body),
    headers: { Authorization: authorization(), 'Content-Type': 'application/json' },
  }).then((response) => (response.ok ? response.blob() : failure(response)));
}

/* A file the server sends as an attachment: its Blob and the name its Content-Disposition gives (else `fallback`). */
export function fetchAttachment(path, fallback) {
  return fetch(path, { cache: 'no-store', headers: { Authorization: authorization() } }).then((response) => {
    if (!response.ok) return failure(response);
    const named = /filename="?([^";]+)"?/.exec(response.headers.get('Content-Disposition') || '');
    return response.blob().then((blob) => ({ blob, name: named ? named[1] : fallback }));
  });
}

/* A streaming request: the raw response, for the stream reader. */
export function streamRequest(path, options) {
  const headers = Object.assign({ Authorization: authorization(), Accept: 'text/event-stream' }, options.headers || {});
  return fetch(path, Object.assign({}, options, { headers, cache: 'no-store' }));
}

/* A refused token ends the session (its page says why); any other error carries the API's detail. */
export function failure(response) {
  return response.json().catch(() => ({})).then((body) => {
    if (response.status === 401) {
      try { sessionStorage.removeItem(SESSION_KEY); } catch (e) { /* nothing kept */ }
      showError(tokenIsCurrent(session.token) ? 'invalid' : 'expired');
    }
    const error = new Error(body.detail || response.statusText || String(response.status));
    error.status = response.status;
    error.budgetResets = response.headers.get('X-Budget-Resets');
    throw error;
  });
}

export function newKey() {
  try {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  } catch (e) { /* not a secure context */ }
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.prototype.map.call(bytes, (b) => (b < 16 ? '0' : '') + b.toString(16)).join('');
}
