/* The composer: the text (Enter sends, Shift+Enter breaks the line, Enter inside an IME composition is the
   IME's), Stop, and the attach and microphone buttons when the app takes files and voice. */
import { state, ui } from './context.js';
import { sendComposed, stopStreaming, updateControls } from './stream.js';
import { acceptedTypes, bindAttachments } from './attachments.js';
import { bindMicrophone } from './voice.js';

export function bindComposer() {
  const input = ui.composerInput;
  ui.composer.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener('compositionstart', () => { state.composing = true; });
  input.addEventListener('compositionend', () => { state.composing = false; });
  input.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.shiftKey) return;
    // Enter that confirms an IME candidate (Korean, Japanese, Chinese input) is not a send.
    if (event.isComposing || event.keyCode === 229 || state.composing) return;
    event.preventDefault();
    submit();
  });
  input.addEventListener('input', () => {
    autoSize();
    updateControls();
  });
  ui.stopButton.addEventListener('click', stopStreaming);
  bindAttachments();
  bindMicrophone();
}

function submit() {
  const text = ui.composerInput.value;
  if (!text.trim() || state.busy || ui.sendButton.disabled) return;
  if (!sendComposed(text)) return;
  ui.composerInput.value = '';
  autoSize();
  updateControls();
}

export function autoSize() {
  const input = ui.composerInput;
  input.style.height = 'auto';
  input.style.height = Math.min(input.scrollHeight, 200) + 'px';
}

/* Text from elsewhere (voice input) added to what is typed. */
export function insertText(text) {
  const input = ui.composerInput;
  input.value = input.value.trim() ? input.value.replace(/\s*$/, ' ') + text : text;
  autoSize();
  updateControls();
  input.focus();
}

/* Shows the composer's features as the app's settings allow. */
export function applyFeatures(features) {
  const uploads = features && features.uploads;
  ui.attachButton.hidden = !(uploads && uploads.enabled && (uploads.transfer_methods || ['local_file']).indexOf('local_file') >= 0);
  if (uploads) ui.fileInput.accept = acceptedTypes(uploads);
  ui.micButton.hidden = !(features && features.speech_to_text && features.speech_to_text.enabled &&
    navigator.mediaDevices && navigator.mediaDevices.getUserMedia && (window.AudioContext || window.webkitAudioContext));
}
