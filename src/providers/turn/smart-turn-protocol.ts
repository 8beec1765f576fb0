/** Messages between SmartTurnModel (main thread) and smart-turn-worker (worker thread). */

export type ToWorker =
  | { type: 'load'; modelPath: string; threads: number }
  /** Mono PCM16 at 16 kHz, newest last (the buffer is transferred). */
  | { type: 'predict'; id: number; pcm: Int16Array };

export type FromWorker =
  | { type: 'loaded'; inputName: string; outputName: string }
  | { type: 'load_failed'; message: string }
  /** Times in ms of this thread: features (log-mel) and the model run. */
  | { type: 'result'; id: number; probability: number; featuresMs: number; inferenceMs: number }
  | { type: 'error'; id: number; message: string };
