/*
 * Chat Gateway widget: a floating chat button that opens the gateway's chat page (embed mode) in a panel.
 *
 *   <script src="https://GATEWAY/widget.js" async
 *           data-system-id="drillquiz"
 *           data-token-endpoint="/api/chat-token"   (your backend; or data-token="<JWT>")
 *           data-lang="ko"></script>                 (optional: en|es|ko|zh|ja, default: the browser's)
 *
 * The token endpoint belongs to the client site: it is called with `?system_id=&lang=` (and the site's own
 * cookies), asks the gateway's GET /v1/chat-token with its X-API-Key on the server side, and answers the
 * gateway's JSON ({"token", "user_id", "ui"}). The browser never sees an API key. Optional: data-gateway (default:
 * where this script came from), data-position="left".
 * Sites without logged-in users may instead set data-browser-key="<CHAT_GATEWAY_BROWSER_KEY>": the widget then asks
 * the gateway itself, for an anonymous visitor only.
 * A logged-out visitor's id (`anonymous-…`, in the answer's user_id) is kept in localStorage per gateway and system
 * and sent back as user_id, so the visitor keeps their conversations across visits.
 * Styles are set through the DOM (not a <style> element), so a strict CSP on the host page does not break it.
 */
(function () {
  'use strict';

  var FALLBACK_UI = __WIDGET_STRINGS__;
  var script = document.currentScript;
  if (!script || window.ChatGatewayWidget) return;

  var data = script.dataset;
  var gateway = (data.gateway || new URL(script.src, location.href).origin).replace(/\/+$/, '');
  var language = pickLanguage(data.lang || navigator.language || 'en');
  var ui = FALLBACK_UI[language] || FALLBACK_UI.en;
  var left = data.position === 'left';
  var token = data.token || null;
  var tokenSource = data.tokenEndpoint || data.browserKey;
  var VISITOR_KEY = 'chat-gateway:visitor:' + gateway + ':' + (data.systemId || '');
  var VISITOR_ID = /^anonymous-[a-z2-7]{26}$/;
  var button, panel, frame, status, isOpen = false, loading = null;

  function pickLanguage(tag) {
    var primary = String(tag).toLowerCase().split(/[-_]/)[0];
    return FALLBACK_UI[primary] ? primary : 'en';
  }

  function css(element, styles) {
    Object.keys(styles).forEach(function (name) { element.style[name] = styles[name]; });
    return element;
  }

  function svg(paths) {
    var ns = 'http://www.w3.org/2000/svg';
    var icon = document.createElementNS(ns, 'svg');
    icon.setAttribute('viewBox', '0 0 24 24');
    icon.setAttribute('width', '26');
    icon.setAttribute('height', '26');
    icon.setAttribute('aria-hidden', 'true');
    icon.setAttribute('focusable', 'false');
    paths.forEach(function (d) {
      var path = document.createElementNS(ns, 'path');
      path.setAttribute('d', d);
      path.setAttribute('fill', 'none');
      path.setAttribute('stroke', 'currentColor');
      path.setAttribute('stroke-width', '2');
      path.setAttribute('stroke-linecap', 'round');
      path.setAttribute('stroke-linejoin', 'round');
      icon.appendChild(path);
    });
    return icon;
  }

  var CHAT_ICON = ['M21 12a8 8 0 0 1-11.6 7.1L4 20l1.1-4.6A8 8 0 1 1 21 12z'];
  var CLOSE_ICON = ['M6 6l12 12M18 6L6 18'];

  function build() {
    button = css(document.createElement('button'), {
      position: 'fixed', bottom: '20px', zIndex: '2147483000', width: '58px', height: '58px', borderRadius: '50%',
      border: '0', background: data.color || '#4f46e5', color: '#fff', cursor: 'pointer', display: 'grid',
      placeItems: 'center', boxShadow: '0 6px 24px rgba(0,0,0,.22)', padding: '0',
    });
    button.style[left ? 'left' : 'right'] = '20px';
    button.type = 'button';
    button.id = 'chat-gateway-launcher';
    button.setAttribute('aria-controls', 'chat-gateway-panel');
    button.addEventListener('click', function () { if (isOpen) close(); else open(); });

    panel = css(document.createElement('div'), {
      position: 'fixed', zIndex: '2147483001', display: 'none', flexDirection: 'column', overflow: 'hidden',
      background: '#fff', borderRadius: '16px', boxShadow: '0 12px 48px rgba(0,0,0,.28)',
    });
    panel.id = 'chat-gateway-panel';
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-label', ui.title);

    var header = css(document.createElement('div'), {
      display: 'flex', alignItems: 'center', justifyContent: 'space-between', padding: '0 6px 0 16px', height: '44px',
      background: data.color || '#4f46e5', color: '#fff', font: '600 15px system-ui, sans-serif', flex: 'none',
    });
    var title = document.createElement('span');
    title.textContent = ui.title;
    var closeButton = css(document.createElement('button'), {
      width: '36px', height: '36px', border: '0', background: 'transparent', color: '#fff', cursor: 'pointer',
      display: 'grid', placeItems: 'center', borderRadius: '8px', padding: '0',
    });
    closeButton.type = 'button';
    closeButton.setAttribute('aria-label', ui.close);
    closeButton.title = ui.close;
    closeButton.appendChild(svg(CLOSE_ICON));
    closeButton.addEventListener('click', close);
    header.appendChild(title);
    header.appendChild(closeButton);

    status = css(document.createElement('p'), {
      margin: 'auto', padding: '24px', textAlign: 'center', color: '#555', font: '14px system-ui, sans-serif',
    });
    status.setAttribute('role', 'status');

    frame = css(document.createElement('iframe'), { flex: '1', width: '100%', border: '0', display: 'none' });
    frame.title = ui.title;
    frame.setAttribute('allow', 'clipboard-write; microphone');

    panel.appendChild(header);
    panel.appendChild(status);
    panel.appendChild(frame);
    panel.addEventListener('keydown', function (event) { if (event.key === 'Escape') close(); });
    document.body.appendChild(panel);
    document.body.appendChild(button);
    layout();
    window.addEventListener('resize', layout);
    showLauncher();
  }

  /* A panel above the button; the whole screen on a phone. */
  function layout() {
    var phone = window.innerWidth < 520;
    css(panel, phone
      ? { top: '0', bottom: '0', left: '0', right: '0', width: '100%', height: '100%', borderRadius: '0' }
      : { top: 'auto', bottom: '92px', left: left ? '20px' : 'auto', right: left ? 'auto' : '20px',
          width: '380px', height: 'min(640px, calc(100vh - 120px))', borderRadius: '16px' });
    button.style.display = phone && isOpen ? 'none' : 'grid';
  }

  function showLauncher() {
    button.textContent = '';
    button.appendChild(svg(isOpen ? CLOSE_ICON : CHAT_ICON));
    button.setAttribute('aria-label', isOpen ? ui.close : ui.open);
    button.title = isOpen ? ui.close : ui.open;
    button.setAttribute('aria-expanded', String(isOpen));
  }

  function expiresSoon(jwt) {
    try {
      var payload = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      var claims = JSON.parse(atob(payload + '==='.slice((payload.length + 3) % 4)));
      return !claims.exp || claims.exp * 1000 < Date.now() + 60000;
    } catch (e) {
      return true;
    }
  }

  /* The anonymous visitor id the gateway gave this browser, if any (storage may be unavailable: then none). */
  function visitorID() {
    try { var id = localStorage.getItem(VISITOR_KEY); return id && VISITOR_ID.test(id) ? id : null; } catch (e) { return null; }
  }

  function rememberVisitor(id) {
    if (typeof id !== 'string' || !VISITOR_ID.test(id)) return;
    try { localStorage.setItem(VISITOR_KEY, id); } catch (e) { /* private mode: a new visitor id next time */ }
  }

  /* From the site's backend (data-token-endpoint), else from the gateway with a browser key. */
  function tokenRequest() {
    var visitor = visitorID();
    if (data.tokenEndpoint) {
      var url = new URL(data.tokenEndpoint, location.href);
      if (data.systemId) url.searchParams.set('system_id', data.systemId);
      if (visitor) url.searchParams.set('user_id', visitor);
      url.searchParams.set('lang', language);
      return fetch(url.toString(), { credentials: 'include', headers: { Accept: 'application/json' } });
    }
    var direct = new URL(gateway + '/v1/chat-token');
    direct.searchParams.set('system_id', data.systemId || '');
    direct.searchParams.set('user_id', visitor || 'anonymous');
    direct.searchParams.set('lang', language);
    return fetch(direct.toString(), { credentials: 'omit', headers: { Accept: 'application/json', 'X-API-Key': data.browserKey } });
  }

  function fetchToken() {
    if (token && (!tokenSource || !expiresSoon(token))) return Promise.resolve(token);
    if (!tokenSource) return Promise.reject(new Error('no token'));
    return tokenRequest()
      .then(function (response) {
        if (!response.ok) throw new Error('token endpoint answered ' + response.status);
        return response.json();
      })
      .then(function (body) {
        if (!body || !body.token) throw new Error('no token in answer');
        if (body.ui) applyStrings(body.ui);
        rememberVisitor(body.user_id);
        token = body.token;
        return token;
      });
  }

  /* The `ui` strings of /v1/chat-token?lang= win over the built-in ones. */
  function applyStrings(strings) {
    Object.keys(ui).forEach(function (key) { if (typeof strings[key] === 'string') ui[key] = strings[key]; });
    panel.setAttribute('aria-label', ui.title);
    panel.querySelector('span').textContent = ui.title;
    frame.title = ui.title;
    showLauncher();
  }

  function open() {
    isOpen = true;
    panel.style.display = 'flex';
    showLauncher();
    layout();
    if (frame.src && !expiresSoon(token)) { frame.focus(); return; }
    status.textContent = ui.loading;
    status.style.display = 'block';
    loading = loading || fetchToken().then(function (jwt) {
      var src = gateway + '/chat?embed=1&lang=' + encodeURIComponent(language) + '&token=' + encodeURIComponent(jwt);
      frame.src = src;
      frame.style.display = 'block';
      status.style.display = 'none';
      frame.focus();
    }, function () {
      status.textContent = ui.tokenError;
    }).then(function () { loading = null; });
  }

  function close() {
    isOpen = false;
    panel.style.display = 'none';
    showLauncher();
    layout();
    button.focus();
  }

  window.ChatGatewayWidget = { open: open, close: close };
  if (document.body) build(); else document.addEventListener('DOMContentLoaded', build);
})();
