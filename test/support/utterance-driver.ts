/**
 * Drives a recognizer stream as the session does for recognizers that transcribe utterance by
 * utterance: audio in chunks, and the VAD's speech edges where the test's tones start and stop.
 */
import type { AsrResult, AsrStream } from '../../src/providers/types.js';
import { silence, tone } from './scripted-providers.js';

const RATE_HZ = 16000;
/** The session's VAD says "start" after this much speech (VAD_MIN_SPEECH_MS). */
const START_AFTER_MS = 100;
/** ... and "end" after this much silence (VAD_MIN_SILENCE_MS). */
const END_AFTER_MS = 300;

export interface DriveOptions {
  chunkMs?: number;
  /** Wait between chunks (ms); 0 sends as fast as possible. */
  paceMs?: number;
}

/** Silence, a tone of `toneMs` marked as speech, and the silence that ends it. */
export async function speakUtterance(stream: AsrStream, toneMs: number, opts: DriveOptions = {}): Promise<void> {
  await send(stream, silence(200), opts);
  await send(stream, tone(START_AFTER_MS), opts);
  stream.speech?.({ type: 'start', msAgo: START_AFTER_MS });
  await send(stream, tone(toneMs - START_AFTER_MS), opts);
  await send(stream, silence(END_AFTER_MS), opts);
  stream.speech?.({ type: 'end', msAgo: END_AFTER_MS });
}

async function send(stream: AsrStream, pcm: Int16Array, { chunkMs = 100, paceMs = 0 }: DriveOptions): Promise<void> {
  const step = Math.round((RATE_HZ * chunkMs) / 1000);
  for (let at = 0; at < pcm.length; at += step) {
    stream.write(pcm.subarray(at, at + step));
    if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
  }
}

/** Every result until the stream ends; a failure is returned as `error`. */
export async function collect(stream: AsrStream): Promise<{ results: AsrResult[]; error?: Error }> {
  const results: AsrResult[] = [];
  try {
    for await (const result of stream) results.push(result);
    return { results };
  } catch (error) {
    return { results, error: error as Error };
  }
}
