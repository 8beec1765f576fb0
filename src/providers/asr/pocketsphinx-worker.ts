/**
 * Worker thread for PocketsphinxRecognizer: owns libpocketsphinx decoders (through koffi) so that
 * model loading (~0.3 s) and decoding never run on the main event loop.
 *
 * A worker serves several streams, one decoder each. Decoders are kept after a stream closes and
 * reused by the next one (ps_start_utt resets them), so the model is loaded only when all of this
 * worker's decoders are busy.
 */
import { parentPort, workerData } from 'node:worker_threads';
import koffi from 'koffi';
import type { FromWorker, PocketsphinxWorkerData, ToWorker } from './pocketsphinx-protocol.js';

if (!parentPort) throw new Error('pocketsphinx-worker must run in a worker thread');
const port = parentPort;
const config = workerData as PocketsphinxWorkerData;

// Library sonames as installed by Debian's libpocketsphinx3/libsphinxbase3 (no -dev symlinks needed).
const sb = koffi.load('libsphinxbase.so.3');
const ps = koffi.load('libpocketsphinx.so.3');

const err_set_logfp = sb.func('void err_set_logfp(void *stream)');
const cmd_ln_parse_r = sb.func('void *cmd_ln_parse_r(void *inout_cmdln, void *defn, int argc, const char **argv, int strict)');
const cmd_ln_free_r = sb.func('int cmd_ln_free_r(void *cmdln)');
const ps_args = ps.func('void *ps_args(void)');
const ps_init = ps.func('void *ps_init(void *config)');
const ps_free = ps.func('int ps_free(void *ps)');
const ps_start_utt = ps.func('int ps_start_utt(void *ps)');
const ps_end_utt = ps.func('int ps_end_utt(void *ps)');
const ps_process_raw = ps.func('int ps_process_raw(void *ps, const int16_t *data, size_t n_samples, int no_search, int full_utt)');
const ps_get_hyp = ps.func('const char *ps_get_hyp(void *ps, _Out_ int32_t *out_best_score)');
const ps_get_in_speech = ps.func('uint8_t ps_get_in_speech(void *ps)');

// Logging off for the whole process (sphinxbase's log is global). Passing `-logfn` instead would make
// every ps_init reopen and close the global log file, which races between worker threads.
err_set_logfp(null);

type Decoder = unknown; // opaque ps_decoder_t*

interface StreamState {
  dec: Decoder;
  inSpeech: boolean;
  lastPartial: string;
  /** Samples decoded since the partial hypothesis was last read. */
  sinceHyp: number;
}

const idle: Decoder[] = [];
const streams = new Map<number, StreamState>();
/** Largest piece fed to ps_process_raw at once (100 ms), so endpoints inside a long write are seen. */
const MAX_PIECE = 1600;
/** The partial hypothesis (a backtrace, not free) is read at most once per 100 ms of audio. */
const PARTIAL_EVERY = 1600;

function send(msg: FromWorker): void {
  port.postMessage(msg);
}

function loadDecoder(): Decoder {
  const cfg = cmd_ln_parse_r(null, ps_args(), config.args.length, config.args, 1) as unknown;
  if (!cfg) throw new Error(`invalid pocketsphinx arguments: ${config.args.join(' ')}`);
  const dec = ps_init(cfg) as unknown;
  cmd_ln_free_r(cfg); // ps_init keeps its own reference
  if (!dec) throw new Error(`could not load the pocketsphinx model (${config.args.join(' ')})`);
  return dec;
}

function hypothesis(dec: Decoder): string {
  const text = ps_get_hyp(dec, [0]) as string | null;
  return (text ?? '').trim();
}

function release(dec: Decoder): void {
  if (idle.length < config.maxIdleDecoders) idle.push(dec);
  else ps_free(dec);
}

function open(id: number): void {
  const dec = idle.pop() ?? loadDecoder();
  if (ps_start_utt(dec) < 0) {
    ps_free(dec);
    throw new Error('ps_start_utt failed');
  }
  streams.set(id, { dec, inSpeech: false, lastPartial: '', sinceHyp: 0 });
}

function audio(id: number, pcm: Int16Array): void {
  const s = streams.get(id);
  if (!s) return; // closed already
  for (let at = 0; at < pcm.length; at += MAX_PIECE) {
    const piece = pcm.subarray(at, Math.min(pcm.length, at + MAX_PIECE));
    if (ps_process_raw(s.dec, piece, piece.length, 0, 0) < 0) throw new Error('ps_process_raw failed');
    const inSpeech = ps_get_in_speech(s.dec) !== 0;
    s.sinceHyp += piece.length;
    if (inSpeech) {
      if (s.sinceHyp >= PARTIAL_EVERY) {
        s.sinceHyp = 0;
        const text = hypothesis(s.dec);
        if (text && text !== s.lastPartial) {
          s.lastPartial = text;
          send({ type: 'result', id, kind: 'partial', text });
        }
      }
    } else if (s.inSpeech) {
      // pocketsphinx's own endpointing: speech → silence ends the utterance.
      ps_end_utt(s.dec);
      const text = hypothesis(s.dec);
      if (text) send({ type: 'result', id, kind: 'final', text });
      s.lastPartial = '';
      s.sinceHyp = 0;
      if (ps_start_utt(s.dec) < 0) throw new Error('ps_start_utt failed');
    }
    s.inSpeech = inSpeech;
  }
}

function close(id: number, flush: boolean): void {
  const s = streams.get(id);
  if (!s) {
    if (flush) send({ type: 'closed', id });
    return;
  }
  streams.delete(id);
  ps_end_utt(s.dec);
  if (flush) {
    const text = hypothesis(s.dec);
    if (text) send({ type: 'result', id, kind: 'final', text });
    send({ type: 'closed', id });
  }
  release(s.dec);
}

port.on('message', (msg: ToWorker) => {
  try {
    switch (msg.type) {
      case 'open':
        open(msg.id);
        break;
      case 'audio':
        audio(msg.id, msg.pcm);
        break;
      case 'close':
        close(msg.id, msg.flush);
        break;
      case 'warm':
        idle.push(loadDecoder());
        send({ type: 'warm', id: msg.id });
        break;
    }
  } catch (e) {
    const s = streams.get(msg.id);
    if (s) {
      streams.delete(msg.id);
      ps_free(s.dec); // its state is unknown: do not reuse it
    }
    send({ type: 'error', id: msg.id, message: e instanceof Error ? e.message : String(e) });
  }
});
