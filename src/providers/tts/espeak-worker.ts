/**
 * Worker thread for EspeakSynthesizer: the only user of libespeak-ng (through koffi) in the process.
 *
 * libespeak-ng keeps its state (voice, callback, buffers) in globals and is not thread-safe, and every
 * worker thread that dlopens it gets the same copy, so the process has exactly one of these workers
 * and it synthesizes one job at a time, in order. Synthesis runs at ~0.001–0.005 × real time, so the
 * queue stays short. The abort flag of a job lives in shared memory, so the main thread can stop a
 * running synthesis (barge-in) although this thread is busy inside espeak_Synth: the synth callback
 * reads the flag and returns 1, which makes espeak stop at once.
 *
 * Word timings come from espeak's own word events (espeakEVENT_WORD: the word's place in the text
 * and its audio position in ms), sent with the audio chunk they arrive with.
 *
 * Resampling from espeak's 22050 Hz to the rate asked for happens here too: libsamplerate's WASM
 * instances are costly to create and their first calls and memory churn blocked the main event
 * loop for tens of ms per reply piece. One resampler per output rate is kept and reset between jobs.
 */
import { parentPort } from 'node:worker_threads';
import koffi from 'koffi';
import { StreamResampler } from '../../audio/resampler.js';
import type { WordTiming } from '../types.js';
import type { EspeakVoiceInfo, EspeakVoiceSpec, FromWorker, ToWorker } from './espeak-protocol.js';

if (!parentPort) throw new Error('espeak-worker must run in a worker thread');
const port = parentPort;

const AUDIO_OUTPUT_SYNCHRONOUS = 2;
const BUFFER_MS = 100; // chunk size of the synth callback
const POS_CHARACTER = 1;
const espeakCHARS_UTF8 = 1;
const espeakRATE = 1;
const EE_OK = 0;
const EVENT_LIST_TERMINATED = 0;
const EVENT_WORD = 1;

const lib = koffi.load('libespeak-ng.so.1');
const espeak_Initialize = lib.func('int espeak_Initialize(int output, int buflength, const char *path, int options)');
const SynthCallback = koffi.proto('int EspeakSynthCallback(int16_t *wav, int numsamples, void *events)');
const espeak_SetSynthCallback = lib.func('void espeak_SetSynthCallback(EspeakSynthCallback *cb)');
// espeak_EVENT (speak_lib.h); `id` is a union of an int, a pointer and char[8]: 8 bytes.
const EspeakEvent = koffi.struct('espeak_EVENT', {
  type: 'int',
  unique_identifier: 'uint32_t',
  text_position: 'int',
  length: 'int',
  audio_position: 'int',
  sample: 'int',
  user_data: 'void *',
  id: 'int64_t',
});
const EVENT_BYTES = koffi.sizeof(EspeakEvent);
const MAX_EVENTS_PER_CALL = 10_000; // a list always ends with LIST_TERMINATED; this only guards a bad pointer
const espeak_SetVoiceByName = lib.func('int espeak_SetVoiceByName(const char *name)');
// espeak_VOICE, seen two ways: `languages` is a plain string when we pass a voice spec in, and a
// list (priority byte, NUL-terminated code)* ending in a 0 byte when espeak lists its voices.
const voiceFields = (languages: string) => ({
  name: 'const char *',
  languages,
  identifier: 'const char *',
  gender: 'uint8_t',
  age: 'uint8_t',
  variant: 'uint8_t',
  xx1: 'uint8_t',
  score: 'int',
  spare: 'void *',
});
// Declared by name for espeak_SetVoiceByProperties below.
koffi.struct('espeak_VOICE_spec', voiceFields('const char *'));
const Voice = koffi.struct('espeak_VOICE_out', voiceFields('void *'));
const espeak_SetVoiceByProperties = lib.func('int espeak_SetVoiceByProperties(espeak_VOICE_spec *spec)');
const espeak_ListVoices = lib.func('void *espeak_ListVoices(void *spec)');
const espeak_SetParameter = lib.func('int espeak_SetParameter(int parameter, int value, int relative)');
const espeak_Synth = lib.func(
  'int espeak_Synth(const void *text, size_t size, unsigned int position, int position_type, unsigned int end_position, unsigned int flags, void *unique_identifier, void *user_data)',
);

const sampleRateHz = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, BUFFER_MS, null, 0) as number;
if (sampleRateHz <= 0) throw new Error('espeak_Initialize failed (is espeak-ng-data installed?)');

interface CurrentJob {
  id: number;
  abort: Int32Array;
  resampler: StreamResampler | null;
  /** UTF-16 offset of each code point of the text (espeak counts characters from 1). */
  charOffsets: number[];
  /** Words reported but not yet sent (they go with the next audio). */
  words: WordTiming[];
}

/** The job whose audio the callback is producing. */
let current: CurrentJob | undefined;

const callback = koffi.register((wav: bigint | null, numSamples: number, events: bigint | null): number => {
  const job = current;
  if (!job || Atomics.load(job.abort, 0) !== 0) return 1; // stop synthesis now
  if (events) collectWords(job, events);
  if (wav && numSamples > 0) {
    const native = new Int16Array(koffi.view(wav, numSamples * 2).slice(0));
    sendChunk(job, job.resampler ? job.resampler.process(native) : native);
  }
  return 0;
}, koffi.pointer(SynthCallback));

function collectWords(job: CurrentJob, events: bigint): void {
  for (let i = 0; i < MAX_EVENTS_PER_CALL; i++) {
    const e = koffi.decode(events, i * EVENT_BYTES, EspeakEvent) as { type: number; text_position: number; length: number; audio_position: number };
    if (e.type === EVENT_LIST_TERMINATED) return;
    if (e.type !== EVENT_WORD || e.text_position < 1) continue;
    const first = Math.min(e.text_position - 1, job.charOffsets.length - 1);
    const end = Math.min(first + Math.max(1, e.length), job.charOffsets.length - 1);
    job.words.push({ textOffset: job.charOffsets[first]!, textLength: job.charOffsets[end]! - job.charOffsets[first]!, startMs: e.audio_position });
  }
}

/** Code point i of `text` starts at UTF-16 offset [i]; one more entry for the end. */
function codePointOffsets(text: string): number[] {
  const offsets: number[] = [];
  let at = 0;
  for (const ch of text) {
    offsets.push(at);
    at += ch.length;
  }
  offsets.push(at);
  return offsets;
}

function sendChunk(job: CurrentJob, pcm: Int16Array): void {
  if (pcm.length === 0) return;
  // Transfer a buffer of its own: handing over a view's whole buffer would take more than the view.
  const own = pcm.buffer instanceof ArrayBuffer && pcm.byteOffset === 0 && pcm.byteLength === pcm.buffer.byteLength ? pcm : pcm.slice();
  const words = job.words.length > 0 ? job.words.splice(0) : undefined;
  send({ type: 'chunk', id: job.id, pcm: own, ...(words ? { words } : {}) }, [own.buffer as ArrayBuffer]);
}

/** Output rates in use are few (the sessions' formats); a few resamplers are kept, the oldest dropped. */
const MAX_KEPT_RESAMPLERS = 4;
const resamplers = new Map<number, StreamResampler>();

async function resamplerTo(rateHz: number): Promise<StreamResampler | null> {
  if (rateHz === sampleRateHz) return null;
  let resampler = resamplers.get(rateHz);
  if (!resampler) {
    resampler = await StreamResampler.create(sampleRateHz, rateHz);
    resamplers.set(rateHz, resampler);
    if (resamplers.size > MAX_KEPT_RESAMPLERS) {
      const [oldestRate, oldest] = resamplers.entries().next().value as [number, StreamResampler];
      resamplers.delete(oldestRate);
      oldest.destroy();
    }
  }
  return resampler;
}
espeak_SetSynthCallback(callback);

function send(msg: FromWorker, transfer?: ArrayBuffer[]): void {
  port.postMessage(msg, transfer);
}

let currentVoiceKey = '';
let currentRate: number | undefined;
const DEFAULT_RATE_WPM = 175;

function setVoice(spec: EspeakVoiceSpec): void {
  const key = JSON.stringify(spec);
  if (key === currentVoiceKey) return;
  currentVoiceKey = '';
  currentRate = undefined; // a new voice resets the parameters
  if ('name' in spec) {
    if (espeak_SetVoiceByName(spec.name) !== EE_OK) {
      throw new Error(
        `espeak-ng has no voice "${spec.name}". List the voices with \`espeak-ng --voices\` ` +
          '(or EspeakSynthesizer.listVoices()); a voice is a name such as "en-us", "hi", "de" or an identifier such as "gmw/en-US".',
      );
    }
  } else {
    const tag = spec.language.trim().toLowerCase().replace(/_/g, '-');
    const primary = tag.split('-')[0] ?? tag;
    const ok =
      (tag !== '' && espeak_SetVoiceByName(tag) === EE_OK) ||
      byLanguage(tag) ||
      (primary !== tag && primary !== '' && (espeak_SetVoiceByName(primary) === EE_OK || byLanguage(primary)));
    if (!ok) {
      throw new Error(
        `espeak-ng has no voice for language "${spec.language}". List the voices and their languages with ` +
          '`espeak-ng --voices` (or EspeakSynthesizer.listVoices()), and set the TTS voice to one of them.',
      );
    }
  }
  currentVoiceKey = key;
}

function byLanguage(language: string): boolean {
  return espeak_SetVoiceByProperties({ name: null, languages: language, identifier: null, gender: 0, age: 0, variant: 0, xx1: 0, score: 0, spare: null }) === EE_OK;
}

function setRate(rateWpm: number | undefined): void {
  const rate = rateWpm ?? DEFAULT_RATE_WPM;
  if (rate === currentRate) return;
  espeak_SetParameter(espeakRATE, rate, 0);
  currentRate = rate;
}

async function synth(msg: Extract<ToWorker, { type: 'synth' }>): Promise<void> {
  if (Atomics.load(msg.abort, 0) !== 0) {
    send({ type: 'done', id: msg.id });
    return;
  }
  setVoice(msg.voice);
  setRate(msg.rateWpm);
  const resampler = await resamplerTo(msg.sampleRateHz);
  const text = Buffer.from(`${msg.text}\0`, 'utf8');
  const job: CurrentJob = { id: msg.id, abort: msg.abort, resampler, charOffsets: codePointOffsets(msg.text), words: [] };
  current = job;
  try {
    const rc = espeak_Synth(text, text.length, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, null, null) as number;
    if (rc !== EE_OK && Atomics.load(msg.abort, 0) === 0) throw new Error(`espeak_Synth failed (error ${rc})`);
  } finally {
    current = undefined;
    // The filter's held-back tail; flush() also resets the resampler for the next job.
    const tail = resampler?.flush();
    if (tail && Atomics.load(msg.abort, 0) === 0) sendChunk(job, tail);
  }
  send({ type: 'done', id: msg.id, ...(job.words.length > 0 ? { words: job.words } : {}) });
}

function listVoices(): EspeakVoiceInfo[] {
  const list = espeak_ListVoices(null) as bigint | null;
  const voices: EspeakVoiceInfo[] = [];
  if (!list) return voices;
  for (let i = 0; ; i++) {
    const p = koffi.decode(list, i * koffi.sizeof('void *'), 'void *') as bigint | null;
    if (!p) break;
    const v = koffi.decode(p, Voice) as { name: string | null; languages: bigint | null; identifier: string | null };
    const languages: string[] = [];
    if (v.languages) {
      let off = 0n;
      while (koffi.decode.uint8(v.languages + off) !== 0) {
        const code = koffi.decode.string(v.languages + off + 1n);
        languages.push(code);
        off += BigInt(Buffer.byteLength(code) + 2);
      }
    }
    voices.push({ name: v.name ?? '', identifier: v.identifier ?? '', languages });
  }
  return voices;
}

async function handle(msg: ToWorker): Promise<void> {
  try {
    if (msg.type === 'synth') await synth(msg);
    else {
      const voices = listVoices();
      currentVoiceKey = ''; // set the voice again before the next job, to be safe
      send({ type: 'voices', id: msg.id, voices });
    }
  } catch (e) {
    send({ type: 'error', id: msg.id, message: e instanceof Error ? e.message : String(e) });
  }
}

// One job at a time, in order, although a job may wait for a resampler to load.
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: ToWorker) => {
  queue = queue.then(() => handle(msg));
});

send({ type: 'ready', sampleRateHz });
