/* Voice: an answer read aloud (`POST /v1/text-to-audio`), and the microphone filling the composer
   (recorded as WAV through Web Audio, transcribed by `POST /v1/audio-to-text`). */
import { fetchBlob, upload } from './api.js';
import { state, strings, ui } from './context.js';
import { announce, labelButton, note, setIcon } from './dom.js';
import { insertText } from './composer.js';
import { encodeWav, WAV_RATE } from './wav.js';

/* ---- read aloud: one answer at a time, in the page's one <audio> element ---- */

let speaking = null;   // {button, url}

export function readAloud(messageId, button) {
  const audio = ui.readAloudAudio;
  const wasThis = speaking && speaking.button === button;
  stopReading();
  if (wasThis || !messageId) return;
  speaking = { button, url: null };
  button.setAttribute('aria-pressed', 'true');
  labelButton(button, strings.stopReading);
  setIcon(button, 'stop');
  button.classList.add('loading');
  fetchBlob('POST', '/v1/text-to-audio', { message_id: messageId }).then((blob) => {
    if (!speaking || speaking.button !== button) return undefined;
    button.classList.remove('loading');
    speaking.url = URL.createObjectURL(blob);
    audio.src = speaking.url;
    audio.setAttribute('data-message-id', messageId);
    return audio.play();
  }).catch((error) => {
    if (speaking && speaking.button === button) stopReading();
    announce(error && error.message && error.status ? error.message : strings.errorAction);
  });
}

export function stopReading() {
  const audio = ui.readAloudAudio;
  if (!speaking) return;
  const { button, url } = speaking;
  speaking = null;
  audio.pause();
  button.setAttribute('aria-pressed', 'false');
  button.classList.remove('loading');
  labelButton(button, strings.readAloud);
  setIcon(button, 'speaker');
  if (url) setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function bindReadAloud() {
  ui.readAloudAudio.addEventListener('ended', stopReading);
}

/* ---- the microphone ---- */

let recording = null;   // {stream, context, source, processor, chunks, bytes, timer}

export function bindMicrophone() {
  ui.micButton.setAttribute('aria-pressed', 'false');
  ui.micButton.addEventListener('click', () => { if (recording) finishRecording(); else startRecording(); });
}

function startRecording() {
  navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } }).then((stream) => {
    const AudioContextType = window.AudioContext || window.webkitAudioContext;
    const context = new AudioContextType();
    const source = context.createMediaStreamSource(stream);
    // A ScriptProcessor hands over raw samples without a worklet module; speech needs no lower latency.
    const processor = context.createScriptProcessor(4096, 1, 1);
    const limit = (state.features && state.features.audio_upload_limit) || 10 * 1048576;
    // Samples (2 bytes each at 16 kHz) that fit the gateway's limit, with room for the WAV header.
    const maxSeconds = Math.max(1, Math.floor((limit - 44) / (WAV_RATE * 2)) - 1);
    recording = { stream, context, source, processor, chunks: [], started: Date.now(), timer: null };
    processor.onaudioprocess = (event) => {
      if (!recording) return;
      recording.chunks.push(new Float32Array(event.inputBuffer.getChannelData(0)));
    };
    source.connect(processor);
    processor.connect(context.destination);
    recording.timer = setTimeout(finishRecording, maxSeconds * 1000);
    ui.micButton.setAttribute('aria-pressed', 'true');
    ui.micButton.classList.add('recording');
    labelButton(ui.micButton, strings.recordStop);
    note(strings.recording);
  }, () => note(strings.microphoneUnavailable, true));
}

function finishRecording() {
  const done = recording;
  if (!done) return;
  recording = null;
  clearTimeout(done.timer);
  done.processor.disconnect();
  done.source.disconnect();
  done.stream.getTracks().forEach((track) => track.stop());
  const rate = done.context.sampleRate;
  done.context.close();
  ui.micButton.setAttribute('aria-pressed', 'false');
  ui.micButton.classList.remove('recording');
  labelButton(ui.micButton, strings.record);
  if (!done.chunks.length) { note(''); return; }
  const wav = encodeWav(done.chunks, rate);
  note(strings.transcribing);
  ui.micButton.disabled = true;
  upload('/v1/audio-to-text', wav, 'recording.wav').then((reply) => {
    note('');
    if (reply && reply.text) insertText(reply.text);
  }, (error) => {
    note(error && error.status ? error.message : strings.errorAction, true);
  }).then(() => { ui.micButton.disabled = false; });
}
