/*
 * A small Markdown renderer for chat answers: headings, paragraphs, emphasis, inline code, links,
 * lists (nested), block quotes, fenced code, tables and rules.
 *
 * Safety by construction: it builds DOM nodes with createElement and textContent and never parses
 * answer text as HTML, so `<script>` or `<img onerror>` in an answer is shown as text. Links keep only
 * http(s) and mailto targets. An unfinished answer (mid-stream) renders as far as it goes.
 */
(function (global) {
  'use strict';

  var FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/;
  var HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
  var RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
  var QUOTE = /^ {0,3}>\s?(.*)$/;
  var LIST_ITEM = /^( *)([-*+]|\d{1,9}[.)])\s+(.*)$/;
  var TABLE_DELIMITER = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;
  var SAFE_URL = /^(https?:\/\/|mailto:)/i;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function isBlank(line) { return /^\s*$/.test(line); }

  function startsBlock(line, next) {
    return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) ||
      LIST_ITEM.test(line) || isTableStart(line, next);
  }

  function isTableStart(line, next) {
    return line.indexOf('|') !== -1 && next !== undefined && TABLE_DELIMITER.test(next) && next.indexOf('-') !== -1;
  }

  function tableCells(line) {
    var text = line.trim().replace(/^\|/, '').replace(/\|$/, '');
    var cells = [];
    var current = '';
    for (var i = 0; i < text.length; i++) {
      if (text[i] === '\\' && text[i + 1] === '|') { current += '|'; i++; continue; }
      if (text[i] === '|') { cells.push(current.trim()); current = ''; continue; }
      current += text[i];
    }
    cells.push(current.trim());
    return cells;
  }

  function alignment(cell) {
    var left = /^:/.test(cell), right = /:$/.test(cell);
    return left && right ? 'center' : right ? 'right' : left ? 'left' : '';
  }

  /* ---- blocks ---- */

  function renderBlocks(lines, parent) {
    var i = 0;
    while (i < lines.length) {
      var line = lines[i];
      var match;
      if (isBlank(line)) { i++; continue; }

      if ((match = FENCE.exec(line))) {
        var fence = match[1];
        var code = [];
        i++;
        while (i < lines.length && !(lines[i].trim().indexOf(fence) === 0 && lines[i].trim().replace(new RegExp('^' + fence[0] + '+'), '') === '')) {
          code.push(lines[i]);
          i++;
        }
        i++;
        parent.appendChild(codeBlock(code.join('\n'), match[2]));
        continue;
      }
      if ((match = HEADING.exec(line))) {
        var heading = el('h' + Math.min(match[1].length + 2, 6), 'md-heading md-h' + match[1].length);
        renderInline(match[2], heading);
        parent.appendChild(heading);
        i++;
        continue;
      }
      if (RULE.test(line)) { parent.appendChild(el('hr')); i++; continue; }
      if (QUOTE.test(line)) {
        var quoted = [];
        while (i < lines.length && (match = QUOTE.exec(lines[i]))) { quoted.push(match[1]); i++; }
        var quote = el('blockquote');
        renderBlocks(quoted, quote);
        parent.appendChild(quote);
        continue;
      }
      if (isTableStart(line, lines[i + 1])) {
        i = renderTable(lines, i, parent);
        continue;
      }
      if (LIST_ITEM.test(line)) {
        i = renderList(lines, i, parent);
        continue;
      }
      var paragraph = [];
      while (i < lines.length && !isBlank(lines[i]) && (paragraph.length === 0 || !startsBlock(lines[i], lines[i + 1]))) {
        paragraph.push(lines[i].trim());
        i++;
      }
      var p = el('p');
      renderInline(paragraph.join('\n'), p);
      parent.appendChild(p);
    }
  }

  function codeBlock(text, language) {
    var pre = el('pre', 'md-code');
    var code = el('code', language ? 'language-' + language.replace(/[^\w+#-]/g, '') : '', text);
    if (language) pre.setAttribute('data-language', language);
    pre.appendChild(code);
    return pre;
  }

  function renderTable(lines, start, parent) {
    var header = tableCells(lines[start]);
    var aligns = tableCells(lines[start + 1]).map(alignment);
    var table = el('table');
    var head = el('thead');
    var headRow = el('tr');
    header.forEach(function (cell, column) { headRow.appendChild(tableCell('th', cell, aligns[column])); });
    head.appendChild(headRow);
    table.appendChild(head);
    var body = el('tbody');
    var i = start + 2;
    while (i < lines.length && !isBlank(lines[i]) && lines[i].indexOf('|') !== -1) {
      var row = el('tr');
      var cells = tableCells(lines[i]);
      for (var column = 0; column < header.length; column++) {
        row.appendChild(tableCell('td', cells[column] || '', aligns[column]));
      }
      body.appendChild(row);
      i++;
    }
    table.appendChild(body);
    var wrap = el('div', 'md-table');
    wrap.appendChild(table);
    parent.appendChild(wrap);
    return i;
  }

  function tableCell(tag, text, align) {
    var cell = el(tag, align ? 'align-' + align : '');
    renderInline(text, cell);
    return cell;
  }

  /* A list and its nested content: an item owns the following lines indented past its marker. */
  function renderList(lines, start, parent) {
    var first = LIST_ITEM.exec(lines[start]);
    var indent = first[1].length;
    var ordered = /\d/.test(first[2]);
    var list = el(ordered ? 'ol' : 'ul');
    if (ordered && parseInt(first[2], 10) !== 1) list.setAttribute('start', String(parseInt(first[2], 10)));
    var i = start;
    var match;
    while (i < lines.length && (match = LIST_ITEM.exec(lines[i])) && match[1].length === indent && /\d/.test(match[2]) === ordered) {
      var contentIndent = match[1].length + match[2].length + 1;
      var content = [match[3]];
      i++;
      while (i < lines.length) {
        var line = lines[i];
        var nested = LIST_ITEM.exec(line);
        var lineIndent = line.length - line.replace(/^ +/, '').length;
        if (isBlank(line)) {
          if (i + 1 < lines.length && !isBlank(lines[i + 1]) && (lines[i + 1].length - lines[i + 1].replace(/^ +/, '').length) > indent) {
            content.push('');
            i++;
            continue;
          }
          break;
        }
        if (nested && nested[1].length <= indent) break;
        if (!nested && lineIndent <= indent && startsBlock(line, lines[i + 1])) break;
        content.push(lineIndent >= contentIndent ? line.slice(contentIndent) : line.replace(/^ +/, ''));
        i++;
      }
      var item = el('li');
      if (content.length === 1 || !content.slice(1).some(function (l) { return startsBlock(l) || isBlank(l); })) {
        renderInline(content.join('\n'), item);
      } else {
        var firstLine = [content[0]];
        var rest = content.slice(1);
        while (rest.length && !isBlank(rest[0]) && !startsBlock(rest[0], rest[1])) firstLine.push(rest.shift());
        renderInline(firstLine.join('\n'), item);
        renderBlocks(rest, item);
      }
      list.appendChild(item);
    }
    parent.appendChild(list);
    return i;
  }

  /* ---- inline ---- */

  var INLINE_SPECIAL = /[\\`!\[<hH*_~]/;
  // Sticky patterns, tried at one position without copying the rest of the text.
  var CODE_SPAN = /(`+)([\s\S]*?[^`])\1(?!`)/y;
  var LINK = /!?\[([^\]]*)\]\(\s*<?((?:[^\s()<>]|\([^\s()<>]*\))*)>?(?:\s+"[^"]*")?\s*\)/y;
  var ANGLE_LINK = /<((?:https?:\/\/|mailto:)[^\s<>]+)>/iy;
  var BARE_URL = /https?:\/\/[^\s<]+/iy;

  function matchAt(pattern, text, index) {
    pattern.lastIndex = index;
    return pattern.exec(text);
  }

  function endsWithWord(text) { return text.length > 0 && /\w/.test(text[text.length - 1]); }

  function findClosing(text, marker, from) {
    var at = text.indexOf(marker, from);
    while (at !== -1 && (at === from || /\s/.test(text[at - 1]))) at = text.indexOf(marker, at + 1);
    return at;
  }

  function renderInline(text, parent) {
    var buffer = '';
    function flush() {
      if (!buffer) return;
      var parts = buffer.split('\n');
      parts.forEach(function (part, index) {
        if (index > 0) parent.appendChild(el('br'));
        if (part) parent.appendChild(document.createTextNode(part));
      });
      buffer = '';
    }
    function emit(node) { flush(); parent.appendChild(node); }

    var i = 0;
    while (i < text.length) {
      var c = text[i];
      var match;
      // Plain characters go straight to the buffer: answers are long and re-rendered while they stream.
      if (!INLINE_SPECIAL.test(c)) { buffer += c; i++; continue; }

      if (c === '\\' && i + 1 < text.length && /[!-\/:-@\[-`{-~]/.test(text[i + 1])) {
        buffer += text[i + 1];
        i += 2;
        continue;
      }
      if (c === '`' && (match = matchAt(CODE_SPAN, text, i))) {
        var code = match[2];
        if (/^ .* $/.test(code)) code = code.slice(1, -1);
        emit(el('code', 'md-inline-code', code));
        i += match[0].length;
        continue;
      }
      if ((c === '[' || (c === '!' && text[i + 1] === '[')) && (match = matchAt(LINK, text, i))) {
        var label = match[1] || match[2];
        if (SAFE_URL.test(match[2])) {
          emit(link(match[2], label, c !== '!'));
        } else {
          buffer += label;
        }
        i += match[0].length;
        continue;
      }
      if (c === '<' && (match = matchAt(ANGLE_LINK, text, i))) {
        emit(link(match[1], match[1], false));
        i += match[0].length;
        continue;
      }
      if ((c === 'h' || c === 'H') && !endsWithWord(buffer) && (match = matchAt(BARE_URL, text, i))) {
        var url = match[0].replace(/[.,:;!?'")\]]+$/, '');
        emit(link(url, url, false));
        i += url.length;
        continue;
      }
      if ((c === '*' || c === '_' || c === '~') && text[i + 1] === c && text[i + 2] !== undefined && !/\s/.test(text[i + 2])) {
        var closeDouble = findClosing(text, c + c, i + 2);
        if (closeDouble !== -1 && (c !== '_' || !/\w/.test(text[closeDouble + 2] || ''))) {
          var strong = el(c === '~' ? 'del' : 'strong');
          renderInline(text.slice(i + 2, closeDouble), strong);
          emit(strong);
          i = closeDouble + 2;
          continue;
        }
      }
      if ((c === '*' || c === '_') && text[i + 1] !== undefined && !/\s/.test(text[i + 1]) && text[i + 1] !== c &&
          (c !== '_' || !endsWithWord(buffer))) {
        var closeSingle = findClosing(text, c, i + 1);
        if (closeSingle !== -1 && text[closeSingle + 1] !== c && (c !== '_' || !/\w/.test(text[closeSingle + 1] || ''))) {
          var em = el('em');
          renderInline(text.slice(i + 1, closeSingle), em);
          emit(em);
          i = closeSingle + 1;
          continue;
        }
      }
      buffer += c;
      i++;
    }
    flush();
  }

  function link(url, label, isLink) {
    var a = el('a', isLink ? '' : 'md-autolink');
    a.href = url;
    a.target = '_blank';
    a.rel = 'noopener noreferrer nofollow';
    // An autolink's text is its URL, taken literally (rendering it as Markdown would find the URL again).
    if (isLink) renderInline(label, a); else a.textContent = label;
    return a;
  }

  /** The answer as a fragment of DOM nodes; nothing in `text` is ever interpreted as HTML. */
  function render(text) {
    var fragment = document.createDocumentFragment();
    renderBlocks(String(text || '').replace(/\r\n?/g, '\n').split('\n'), fragment);
    return fragment;
  }

  global.ChatMarkdown = { render: render };
})(window);
