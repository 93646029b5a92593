/*
 * `window.ChatMarkdown.render(text, options)` for the operators' history page, a classic script: the same renderer as the
 * chat page's (chat/render.js, an ES module). Until that module and its libraries have loaded, a text shows as
 * plain text and is replaced by its rendering as soon as they are there.
 */
(function (global) {
  'use strict';

  var renderer = null;
  var waiting = [];

  import('/chat-assets/chat/render.js').then(function (module) {
    return module.ready().then(function () {
      renderer = module;
      waiting.splice(0).forEach(function (item) {
        if (item.holder.isConnected) item.holder.replaceWith(module.renderMarkdown(item.text, item.options));
      });
    });
  }).catch(function () { waiting = []; });

  /* `options.strings`: the renderer's labels in the page's language. */
  function render(text, options) {
    if (renderer) return renderer.renderMarkdown(text, options);
    var fragment = document.createDocumentFragment();
    var holder = document.createElement('div');
    holder.className = 'md-pending';
    holder.textContent = String(text || '');
    waiting.push({ holder: holder, text: String(text || ''), options: options });
    fragment.appendChild(holder);
    return fragment;
  }

  global.ChatMarkdown = { render: render };
})(window);
