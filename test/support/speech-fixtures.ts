/**
 * Speech test audio: 16 kHz mono s16 PCM made with flite's `slt` voice (pocketsphinx recognises it
 * well, unlike espeak's) and padded with silence by sox. Results are cached on disk by text and
 * padding, so a test run makes each sentence once.
 *
 * Gotcha: under Node's spawn, stdio is a socketpair and flite cannot open /dev/stdout (ENXIO), so
 * flite writes a temp WAV file and sox converts that to a raw file.
 */
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const FIXTURE_SAMPLE_RATE_HZ = 16000;

const cacheDir = path.join(os.tmpdir(), 'voice-gateway-speech-fixtures');
const inFlight = new Map<string, Promise<Int16Array>>();

export interface SpeechFixtureOptions {
  /** Seconds of silence before the speech (default 0.3). */
  padStartS?: number;
  /** Seconds of silence after the speech (default 0.3). */
  padEndS?: number;
}

export async function speechFixture(text: string, opts: SpeechFixtureOptions = {}): Promise<Int16Array> {
  const padStartS = opts.padStartS ?? 0.3;
  const padEndS = opts.padEndS ?? 0.3;
  const key = createHash('sha256').update(JSON.stringify(['flite-slt-16k', text, padStartS, padEndS])).digest('hex').slice(0, 32);
  let pending = inFlight.get(key);
  if (!pending) {
    pending = makeFixture(key, text, padStartS, padEndS);
    inFlight.set(key, pending);
    pending.catch(() => inFlight.delete(key));
  }
  // Each caller gets its own copy: tests may transfer or modify it.
  return (await pending).slice();
}

async function makeFixture(key: string, text: string, padStartS: number, padEndS: number): Promise<Int16Array> {
  const rawPath = path.join(cacheDir, `${key}.raw`);
  try {
    return toInt16(await readFile(rawPath));
  } catch {
    // not cached yet
  }
  await mkdir(cacheDir, { recursive: true });
  const tmp = path.join(cacheDir, `${key}.${randomUUID()}`);
  const wav = `${tmp}.wav`;
  const raw = `${tmp}.raw`;
  try {
    await run('flite', ['-voice', 'slt', '-t', text, '-o', wav]);
    await run('sox', [wav, '-t', 'raw', '-r', String(FIXTURE_SAMPLE_RATE_HZ), '-e', 'signed', '-b', '16', '-c', '1', raw, 'pad', String(padStartS), String(padEndS)]);
    // Atomic publish, so concurrent test processes never read a half-written file.
    await rename(raw, rawPath);
  } finally {
    await rm(wav, { force: true });
    await rm(raw, { force: true });
  }
  return toInt16(await readFile(rawPath));
}

function toInt16(buf: Buffer): Int16Array {
  const out = new Int16Array(buf.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt16LE(i * 2);
  return out;
}

export function silence(ms: number, sampleRateHz = FIXTURE_SAMPLE_RATE_HZ): Int16Array {
  return new Int16Array(Math.round((ms * sampleRateHz) / 1000));
}

export function concatPcm(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits PCM into consecutive chunks of `chunkMs` (the last may be shorter). */
export function chunkPcm(pcm: Int16Array, chunkMs: number, sampleRateHz = FIXTURE_SAMPLE_RATE_HZ): Int16Array[] {
  const n = Math.max(1, Math.round((chunkMs * sampleRateHz) / 1000));
  const chunks: Int16Array[] = [];
  for (let i = 0; i < pcm.length; i += n) chunks.push(pcm.slice(i, i + n));
  return chunks;
}

/** Root mean square of the samples (0 for empty input). */
export function rms(pcm: Int16Array): number {
  if (pcm.length === 0) return 0;
  let sum = 0;
  for (const s of pcm) sum += s * s;
  return Math.sqrt(sum / pcm.length);
}
