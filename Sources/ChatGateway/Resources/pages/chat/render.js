/*
 * Answers as rich text: Markdown by marked, every piece of markup it makes passed through DOMPurify into DOM
 * nodes (never assigned as HTML), code highlighted by highlight.js with a copy button, math by KaTeX, and
 * reasoning (`<think>`, `<details>`) as a collapsible block.
 *
 * HTML written in an answer is shown as text, not interpreted: an answer cannot bring its own elements, and
 * links keep only http(s) and mailto targets. highlight.js and KaTeX are large, so they load the first time
 * an answer has code or math. This module stands alone (no page state): the history page uses it too.
 */

const VENDOR = '/chat-assets/vendor/';
const CORE = [VENDOR + 'dompurify/purify.min.js', VENDOR + 'marked/marked.min.js'];
const HIGHLIGHT = VENDOR + 'highlight.js/highlight.min.js';
const KATEX = VENDOR + 'katex/katex.min.js';
const KATEX_CSS = VENDOR + 'katex/katex.min.css';
const SAFE_LINK = /^(https?:|mailto:)/i;
// Elements and attributes the Markdown renderer below produces; anything else is dropped.
const ALLOWED_TAGS = ['p', 'br', 'strong', 'em', 'del', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'h3', 'h4',
  'h5', 'h6', 'hr', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'a', 'span', 'div'];
const ALLOWED_ATTR = ['href', 'title', 'class', 'start', 'data-language', 'data-math', 'data-display'];
const REASONING = /(^|\n)[ \t]*<(think|details)(\s[^>]*)?>/i;
const LABELS = { copyCode: 'Copy code', copied: 'Copied', reasoning: 'Reasoning' };

const loading = {};
const pending = { code: new Set(), math: new Set() };
// Math placeholders carry this per-load mark: a `data-math` written into an answer by hand is not ours.
const mathMark = Math.random().toString(36).slice(2);
let inlineMath = false;
let configured = false;

/* ---- loading the libraries (classic scripts: they set window.marked, DOMPurify, hljs, katex) ---- */

function loadScript(src) {
  if (!loading[src]) {
    loading[src] = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = src;
      script.async = false;
      script.onload = resolve;
      script.onerror = () => { delete loading[src]; reject(new Error('could not load ' + src)); };
      document.head.appendChild(script);
    });
  }
  return loading[src];
}

function loadStyle(href) {
  if (document.querySelector('link[href="' + href + '"]')) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  document.head.appendChild(link);
}

/** Resolves once marked and DOMPurify are there (the chat page loads them itself; the history page through this). */
export function ready() {
  if (window.marked && window.DOMPurify) return Promise.resolve();
  return Promise.all(CORE.map(loadScript)).then(() => undefined);
}

/* ---- Markdown to sanitized DOM ---- */

function escapeHTML(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function mathSpan(tex, display) {
  const tag = display ? 'div' : 'span';
  return '<' + tag + ' class="md-math" data-math="' + mathMark + '" data-display="' + display + '">' + escapeHTML(tex) +
    '</' + tag + '>';
}

function configure() {
  if (configured) return;
  configured = true;
  const renderer = {
    // HTML in an answer is text: it is shown, never interpreted.
    html(html) { return escapeHTML(html); },
    heading(text, level) {
      return '<h' + Math.min(level + 2, 6) + ' class="md-heading md-h' + level + '">' + text + '</h' + Math.min(level + 2, 6) + '>';
    },
    code(code, info) {
      const lang = String(info || '').trim().split(/\s+/)[0].replace(/[^\w+#.-]/g, '');
      return '<pre class="md-code"' + (lang ? ' data-language="' + escapeHTML(lang) + '"' : '') + '><code' +
        (lang ? ' class="language-' + escapeHTML(lang) + '"' : '') + '>' + escapeHTML(code.replace(/\n$/, '')) + '</code></pre>';
    },
    codespan(code) { return '<code class="md-inline-code">' + code + '</code>'; },
    link(href, title, text) {
      if (!SAFE_LINK.test(href || '')) return text;
      return '<a href="' + escapeHTML(href) + '"' + (title ? ' title="' + escapeHTML(title) + '"' : '') + '>' + text + '</a>';
    },
    // An image from elsewhere could not load under the page's CSP (and would tell that host who reads): a link.
    image(href, title, text) {
      const label = text || href || '';
      if (!SAFE_LINK.test(href || '')) return escapeHTML(label);
      return '<a class="md-image-link" href="' + escapeHTML(href) + '">' + escapeHTML(label) + '</a>';
    },
    table(header, body) {
      return '<div class="md-table"><table><thead>' + header + '</thead><tbody>' + body + '</tbody></table></div>';
    },
    tablecell(content, flags) {
      const tag = flags.header ? 'th' : 'td';
      return '<' + tag + (flags.align ? ' class="align-' + flags.align + '"' : '') + '>' + content + '</' + tag + '>\n';
    },
    checkbox(checked) { return checked ? '\u2611 ' : '\u2610 '; },
  };
  const blockMath = {
    name: 'blockMath', level: 'block',
    start(src) { const at = src.indexOf('$$'); return at < 0 ? undefined : at; },
    tokenizer(src) {
      // One formula alone on its lines; `$$a$$ $$b$$` on one line is two inline ones.
      const match = /^ {0,3}\$\$((?:[^$]|\$(?!\$))+?)\$\$[ \t]*(?:\n|$)/.exec(src);
      if (match) return { type: 'blockMath', raw: match[0], text: match[1].trim() };
      return undefined;
    },
    renderer(token) { return mathSpan(token.text, true); },
  };
  const inlineMathExtension = {
    name: 'inlineMath', level: 'inline',
    start(src) { const at = src.indexOf('$'); return at < 0 ? undefined : at; },
    tokenizer(src) {
      let match = /^\$\$([\s\S]+?)\$\$/.exec(src);
      if (match) return { type: 'inlineMath', raw: match[0], text: match[1].trim(), display: true };
      if (!inlineMath) return undefined;
      // `$x$`, not "$5 and $10": no space inside the dollars, no digit right after the closing one.
      match = /^\$(?![\s$])((?:\\.|[^\\$\n])+?)(?<!\s)\$(?!\d)/.exec(src);
      if (match) return { type: 'inlineMath', raw: match[0], text: match[1], display: false };
      return undefined;
    },
    renderer(token) { return mathSpan(token.text, token.display); },
  };
  window.marked.use({
    gfm: true, breaks: true, headerIds: false, mangle: false, renderer, extensions: [blockMath, inlineMathExtension],
  });
}

function sanitize(html) {
  return window.DOMPurify.sanitize(html, {
    ALLOWED_TAGS, ALLOWED_ATTR, ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i, RETURN_DOM_FRAGMENT: true,
  });
}

/* The text split into Markdown and reasoning blocks (`<think>…</think>`, `<details><summary>…</summary>…</details>`,
   the last one possibly still open while the answer streams). */
function splitReasoning(text) {
  const parts = [];
  let rest = text;
  let match;
  while ((match = REASONING.exec(rest))) {
    const start = match.index + match[1].length;
    if (start > 0) parts.push({ markdown: rest.slice(0, start) });
    const tag = match[2].toLowerCase();
    const bodyStart = match.index + match[0].length;
    const close = rest.toLowerCase().indexOf('</' + tag + '>', bodyStart);
    let body = rest.slice(bodyStart, close < 0 ? rest.length : close);
    let summary = null;
    const summaryMatch = /^\s*<summary[^>]*>([\s\S]*?)<\/summary>/i.exec(body);
    if (summaryMatch) {
      summary = summaryMatch[1].replace(/<[^>]*>/g, '').trim();
      body = body.slice(summaryMatch[0].length);
    }
    parts.push({ reasoning: body, summary, open: close < 0 || /\sopen\b/i.test(match[3] || '') });
    rest = close < 0 ? '' : rest.slice(close + tag.length + 3);
  }
  if (rest) parts.push({ markdown: rest });
  return parts;
}

function markdownFragment(text) {
  try {
    return sanitize(window.marked.parse(text));
  } catch (e) {
    // A library that failed to load or to parse: the text as it is, which is always safe.
    const fragment = document.createDocumentFragment();
    const p = document.createElement('p');
    p.className = 'md-plain';
    p.textContent = text;
    fragment.appendChild(p);
    return fragment;
  }
}

/**
 * The answer as a fragment of sanitized DOM nodes. `options.inlineMath`: `$…$` is math (`$$…$$` always is);
 * `options.strings`: the labels of the copy button and the reasoning block.
 */
export function renderMarkdown(text, options) {
  options = options || {};
  const labels = Object.assign({}, LABELS, options.strings || {});
  const fragment = document.createDocumentFragment();
  if (!window.marked || !window.DOMPurify) {
    fragment.appendChild(markdownFragment(String(text || '')));
    return fragment;
  }
  configure();
  inlineMath = !!options.inlineMath;
  splitReasoning(String(text || '').replace(/\r\n?/g, '\n')).forEach((part) => {
    if (part.markdown !== undefined) {
      fragment.appendChild(markdownFragment(part.markdown));
      return;
    }
    const details = document.createElement('details');
    details.className = 'md-reasoning';
    details.open = part.open;
    const summary = document.createElement('summary');
    summary.textContent = part.summary || labels.reasoning;
    details.appendChild(summary);
    const body = document.createElement('div');
    body.className = 'md-reasoning-body';
    body.appendChild(markdownFragment(part.reasoning));
    details.appendChild(body);
    fragment.appendChild(details);
  });
  enhance(fragment, labels);
  return fragment;
}

/* ---- after sanitizing: links open elsewhere, code is highlighted and copyable, math is typeset ---- */

function enhance(root, labels) {
  root.querySelectorAll('a').forEach((a) => {
    if (!SAFE_LINK.test(a.getAttribute('href') || '')) {
      a.replaceWith(...a.childNodes);
      return;
    }
    a.target = '_blank';
    a.rel = 'noopener noreferrer nofollow';
  });
  root.querySelectorAll('pre.md-code').forEach((pre) => {
    const code = pre.querySelector('code');
    if (!code) return;
    pre.appendChild(copyCodeButton(code, labels));
    highlight(code);
  });
  root.querySelectorAll('.md-math').forEach((node) => {
    if (node.getAttribute('data-math') !== mathMark) {
      node.classList.remove('md-math');
      return;
    }
    typeset(node);
  });
}

function copyCodeButton(code, labels) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'md-copy-code';
  button.textContent = labels.copyCode;
  button.setAttribute('aria-label', labels.copyCode);
  button.addEventListener('click', () => {
    navigator.clipboard.writeText(code.textContent).then(() => {
      button.textContent = labels.copied;
      setTimeout(() => { button.textContent = labels.copyCode; }, 2000);
    }, () => {});
  });
  return button;
}

function highlight(code) {
  if (!window.hljs) {
    pending.code.add(code);
    loadScript(HIGHLIGHT).then(() => drain(pending.code, highlight), () => pending.code.clear());
    return;
  }
  const text = code.textContent;
  const lang = (/(?:^|\s)language-([\w+#.-]+)/.exec(code.className) || [])[1];
  let result = null;
  try {
    if (lang && window.hljs.getLanguage(lang)) result = window.hljs.highlight(lang, text, true);
    // Guessing the language of a long block costs more than it is worth while an answer streams.
    else if (text.length < 4000) result = window.hljs.highlightAuto(text);
  } catch (e) {
    result = null;
  }
  if (!result || !result.value) return;
  const spans = window.DOMPurify.sanitize(result.value, {
    ALLOWED_TAGS: ['span'], ALLOWED_ATTR: ['class'], RETURN_DOM_FRAGMENT: true,
  });
  code.textContent = '';
  code.appendChild(spans);
  code.classList.add('hljs');
}

function typeset(node) {
  if (!window.katex) {
    pending.math.add(node);
    loadStyle(KATEX_CSS);
    loadScript(KATEX).then(() => drain(pending.math, typeset), () => pending.math.clear());
    return;
  }
  const tex = node.textContent;
  node.textContent = '';
  try {
    // trust: false keeps \href, \url and \html* out; katex.render builds DOM and sets styles through the CSSOM.
    window.katex.render(tex, node, {
      displayMode: node.getAttribute('data-display') === 'true', throwOnError: false, trust: false, strict: 'ignore',
      maxSize: 50, maxExpand: 500,
    });
  } catch (e) {
    node.textContent = tex;
  }
  node.setAttribute('data-math', 'done');
}

function drain(set, apply) {
  const nodes = Array.from(set);
  set.clear();
  nodes.forEach((node) => { if (node.isConnected) apply(node); });
}
