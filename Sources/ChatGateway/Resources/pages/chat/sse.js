/* Server-sent events from a fetch body: `id:`, `event:` and `data:` lines, a blank line ends each event;
   `onData` hears every chunk (keep-alives included). */
export function readEvents(stream, handle, onData) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  function dispatch(block) {
    let name = 'message';
    const data = [];
    let id = null;
    block.split('\n').forEach((line) => {
      if (line.indexOf('event:') === 0) name = line.slice(6).trim();
      else if (line.indexOf('data:') === 0) data.push(line.slice(5).replace(/^ /, ''));
      else if (line.indexOf('id:') === 0 && /^\d+$/.test(line.slice(3).trim())) id = Number(line.slice(3).trim());
    });
    if (!data.length) return;
    let parsed;
    try { parsed = JSON.parse(data.join('\n')); } catch (e) { return; }
    handle(name, parsed, id);
  }
  function pump() {
    return reader.read().then((chunk) => {
      if (onData) onData();
      if (chunk.done) {
        if (buffer.trim()) dispatch(buffer);
        return undefined;
      }
      buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
      return pump();
    });
  }
  return pump();
}
