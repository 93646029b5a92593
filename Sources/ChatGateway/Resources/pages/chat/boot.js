/*
 * The chat page's first script: a classic one in <head>, not deferred, so it can decide before the first paint
 * whether a kept session replaces the server's "no token" error. The app itself (main.js, an ES module) starts
 * once the document is parsed and takes what this script decided from `window.ChatGatewayBoot`.
 *
 * The server puts what the scripts need on <html>: data-mode (full|embed), data-strings (the page's texts),
 * and either data-token/-system/-user (a verified token) or data-refusal (why the URL's token was refused).
 * The token moves to sessionStorage at once and leaves the address bar, so a reload of the page
 * (which reaches the server without it) resumes from sessionStorage.
 */
(function () {
  'use strict';

  var root = document.documentElement;
  var SESSION_KEY = 'chat-gateway.session';
  var boot = {
    strings: JSON.parse(root.getAttribute('data-strings') || '{}'),
    mode: root.getAttribute('data-mode') === 'embed' ? 'embed' : 'full',
    language: root.getAttribute('lang') || 'en',
    refusal: root.getAttribute('data-refusal'),
    session: null,
    sessionKey: SESSION_KEY,
    tokenIsCurrent: tokenIsCurrent,
    showError: showError,
  };
  boot.session = takeSession();
  Object.defineProperty(window, 'ChatGatewayBoot', { value: Object.freeze(boot) });

  dropTokenFromAddressBar();
  root.classList.add('mode-' + boot.mode);
  if (boot.session) root.classList.add('has-session');
  // Without a session the app module has nothing to do: the error page says why.
  document.addEventListener('DOMContentLoaded', function () {
    if (!boot.session) showError(boot.refusal || 'missing');
  });

  function takeSession() {
    var token = root.getAttribute('data-token');
    root.removeAttribute('data-token');
    if (token) {
      var fresh = { token: token, system: root.getAttribute('data-system'), user: root.getAttribute('data-user') };
      try { sessionStorage.setItem(SESSION_KEY, JSON.stringify(fresh)); } catch (e) { /* private mode: this load still works */ }
      return fresh;
    }
    // A token in the URL that the server refused wins over a kept one: the user asked for that link.
    if (boot.refusal && boot.refusal !== 'missing') return null;
    var kept = null;
    try { kept = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null'); } catch (e) { kept = null; }
    if (!kept || !kept.token) return null;
    if (!tokenIsCurrent(kept.token)) {
      boot.refusal = 'expired';
      try { sessionStorage.removeItem(SESSION_KEY); } catch (e) { /* nothing kept */ }
      return null;
    }
    return kept;
  }

  /* Only the expiry is read here; the server verifies the signature on every call. */
  function tokenIsCurrent(token) {
    try {
      var payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      var claims = JSON.parse(atob(payload + '==='.slice((payload.length + 3) % 4)));
      return typeof claims.exp === 'number' && claims.exp * 1000 > Date.now() + 5000;
    } catch (e) {
      return false;
    }
  }

  function dropTokenFromAddressBar() {
    if (!/[?&]token=/.test(location.search)) return;
    var params = new URLSearchParams(location.search);
    params.delete('token');
    var query = params.toString();
    history.replaceState(history.state, '', location.pathname + (query ? '?' + query : '') + location.hash);
  }

  function showError(kind) {
    var key = { expired: 'errorExpired', invalid: 'errorInvalid', forbidden: 'errorForbidden' }[kind] || 'errorMissing';
    root.classList.remove('has-session');
    document.getElementById('app').hidden = true;
    document.getElementById('error-text').textContent = boot.strings[key];
    document.getElementById('error-page').hidden = false;
  }
})();
