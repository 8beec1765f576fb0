/** Messages between PocketsphinxRecognizer (main thread) and pocketsphinx-worker (worker thread). */

export interface PocketsphinxWorkerData {
  /** Arguments for cmd_ln_parse_r (model paths, endpointing). */
  args: string[];
  /** Idle decoders a worker keeps for reuse; extra ones are freed. */
  maxIdleDecoders: number;
}

export type ToWorker =
  /** Take a decoder (idle or newly loaded) for stream `id` and start an utterance. */
  | { type: 'open'; id: number }
  /** 16 kHz mono s16 samples for stream `id` (the buffer is transferred). */
  | { type: 'audio'; id: number; pcm: Int16Array }
  /** flush: end the utterance, send its final if non-empty, then `closed`. Otherwise drop it quietly. */
  | { type: 'close'; id: number; flush: boolean }
  /** Load one decoder into the idle pool (answers `warm`). */
  | { type: 'warm'; id: number };

export type FromWorker =
  | { type: 'result'; id: number; kind: 'partial' | 'final'; text: string }
  | { type: 'closed'; id: number }
  | { type: 'warm'; id: number }
  | { type: 'error'; id: number; message: string };
