/**
 * Finds a model file: the user's own (`LLM_MODEL_PATH`), or a default model (`LLM_MODEL_URL`; the
 * choice and why its checksum is not pinned are explained beside its default in config/schema.ts)
 * downloaded once into a cache folder with its sha256 checked when `LLM_MODEL_SHA256` is set. The
 * local LLM's GGUF file is the default `ModelFormat`; the Smart Turn ONNX model
 * (providers/turn/model-file.ts) is another, with its own settings named in the messages. A download lands in a temporary file that
 * is renamed into place only when it is complete and verified, so the cache never holds half a
 * model. When there is no model and no way to get one, the error says how to point the gateway
 * at a model file or at an OpenAI-compatible server.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { downloadProgress, type ProgressStream } from './download-progress.js';

export interface ModelSourceSettings {
  /** A model file to use as it is; empty: use the cache. */
  modelPath: string;
  /** Where the default model is downloaded from. */
  url: string;
  /** Expected sha256 (hex) of the download; empty: not checked (the file's first bytes still are). */
  sha256: string;
  /** Folder of downloaded models; a leading `~/` is the home folder. */
  cacheDir: string;
  /** A download that receives no bytes for this long (ms) is abandoned. */
  stallTimeoutMs: number;
  /** Where progress goes (default stderr). */
  progress?: ProgressStream;
}

/** No model could be found or fetched: the message says what to do. */
export class ModelUnavailableError extends Error {
  override name = 'ModelUnavailableError';
}

/** A kind of model file: how to recognize it, and the settings and advice its messages name. */
export interface ModelFormat {
  /** What the model is, in messages: "local language model". */
  purpose: string;
  /** The file format ("GGUF") and its extension (".gguf"). */
  name: string;
  extension: string;
  /** The file's first bytes: how many to read, whether they are right, and what they should be (for messages). */
  headBytes: number;
  startsRight(head: Buffer): boolean;
  expectedStart: string;
  /** The settings (environment variables) messages name. */
  settings: { path: string; url: string; sha256: string; cacheDir: string; stallMs: string };
  /** What to do when there is no model, one suggestion a line. */
  pointers: string;
}

export const GGUF_MODEL: ModelFormat = {
  purpose: 'local language model',
  name: 'GGUF',
  extension: '.gguf',
  headBytes: 4,
  startsRight: (head) => head.toString('latin1') === 'GGUF',
  expectedStart: '"GGUF"',
  settings: { path: 'LLM_MODEL_PATH', url: 'LLM_MODEL_URL', sha256: 'LLM_MODEL_SHA256', cacheDir: 'LLM_CACHE_DIR', stallMs: 'LLM_DOWNLOAD_STALL_MS' },
  pointers: [
    'Point the gateway at a model, then start it again, with either:',
    '  a GGUF model file on this machine:  LLM_MODEL_PATH=/path/model.gguf',
    '  an OpenAI-compatible server:        LLM_BASE_URL=http://host:port/v1',
  ].join('\n'),
};

/** The model file to load: the user's, the cached one, or a fresh download. */
export async function resolveModelFile(s: ModelSourceSettings, format: ModelFormat = GGUF_MODEL): Promise<string> {
  if (s.modelPath) {
    const path = expandHome(s.modelPath);
    await checkModelFile(path, `${format.settings.path}=${s.modelPath}`, format);
    return path;
  }
  const dir = expandHome(s.cacheDir);
  const file = join(dir, cacheFileName(s.url, format.extension));
  const sha256 = s.sha256.toLowerCase();
  if (await usableCachedFile(file, sha256, format)) return file;
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new ModelUnavailableError(`Cannot create the model cache folder ${dir} (${format.settings.cacheDir}): ${describe(err)}\n${format.pointers}`);
  }
  await download(s, file, sha256, format);
  return file;
}

/** Throws a ModelUnavailableError unless `path` is a file that starts as the format's files do. */
export async function checkModelFile(path: string, what: string, format: ModelFormat = GGUF_MODEL): Promise<void> {
  let head: Buffer;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new ModelUnavailableError(`${what} is a folder, not a ${format.name} file\n${format.pointers}`);
    head = await readHead(path, format.headBytes);
  } catch (err) {
    if (err instanceof ModelUnavailableError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : describe(err);
    throw new ModelUnavailableError(`${what}: ${why}\n${format.pointers}`);
  }
  if (head.length < format.headBytes || !format.startsRight(head)) {
    const shown = JSON.stringify(head.toString('latin1').replace(/[^\x20-\x7e]/g, '.'));
    throw new ModelUnavailableError(
      `${what} is not a ${format.name} file: it starts with ${shown} (${head.toString('hex') || 'nothing'}), a ${format.name} file starts with ${format.expectedStart}\n${format.pointers}`,
    );
  }
}

/** `https://host/a/b/Model-Q4.gguf?x=1` -> `Model-Q4.gguf` (safe characters only). */
export function cacheFileName(url: string, extension = GGUF_MODEL.extension): string {
  const last = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  const safe = last.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  return safe ? (safe.endsWith(extension) ? safe : `${safe}${extension}`) : `model${extension}`;
}

export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/**
 * A cached file is trusted without hashing it again on each start (400 MB take seconds): it only
 * got its name after it was verified, and its sha256 is kept beside it. When a checksum is asked
 * for and the kept one differs (or is missing: a file put there by hand), the file is hashed once.
 */
async function usableCachedFile(file: string, sha256: string, format: ModelFormat): Promise<boolean> {
  try {
    await checkModelFile(file, file, format);
  } catch {
    return false;
  }
  if (!sha256) return true;
  const kept = await readFile(`${file}.sha256`, 'utf8').then((t) => t.trim(), () => '');
  if (kept === sha256) return true;
  const actual = await sha256OfFile(file);
  if (actual !== sha256) return false; // downloaded again, then renamed over it
  await writeFile(`${file}.sha256`, `${actual}\n`);
  return true;
}

async function download(s: ModelSourceSettings, file: string, sha256: string, format: ModelFormat): Promise<void> {
  const names = format.settings;
  const out = s.progress ?? process.stderr;
  const part = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.part`;
  const controller = new AbortController();
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const armStallTimer = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      controller.abort();
    }, s.stallTimeoutMs);
  };
  const offline = (why: string) => new ModelUnavailableError(
    `No ${format.purpose}: ${names.path} is not set, none is cached in ${expandHome(s.cacheDir)} (${names.cacheDir}), and the model could not be downloaded from ${s.url} (${names.url}): ${why}\n${format.pointers}`,
  );

  armStallTimer();
  let response: Response;
  try {
    response = await fetch(s.url, { signal: controller.signal, redirect: 'follow' });
  } catch (err) {
    clearTimeout(timer);
    throw offline(stalled ? `no answer within ${s.stallTimeoutMs} ms (${names.stallMs})` : describeFetchError(err));
  }
  if (!response.ok || !response.body) {
    clearTimeout(timer);
    await response.body?.cancel().catch(() => undefined);
    throw offline(`HTTP ${response.status} ${response.statusText}`.trim());
  }

  const totalBytes = Number(response.headers.get('content-length')) || undefined;
  const progress = downloadProgress(`Downloading ${basename(file)}`, totalBytes, out);
  const hash = createHash('sha256');
  let received = 0;
  try {
    await pipeline(
      Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          armStallTimer();
          hash.update(chunk);
          received += chunk.length;
          progress.advance(chunk.length);
          yield chunk;
        }
      },
      createWriteStream(part, { flags: 'wx' }),
      { signal: controller.signal },
    );
    if (totalBytes !== undefined && received !== totalBytes) {
      throw new Error(`the server announced ${totalBytes} bytes and sent ${received}`);
    }
  } catch (err) {
    await rm(part, { force: true });
    const why = stalled ? `no data for ${s.stallTimeoutMs} ms (${names.stallMs})` : describeFetchError(err);
    throw offline(`the download broke after ${received} bytes: ${why}`);
  } finally {
    clearTimeout(timer);
    progress.stop();
  }

  const actual = hash.digest('hex');
  try {
    await checkModelFile(part, `The file downloaded from ${s.url}`, format);
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  }
  if (sha256 && actual !== sha256) {
    await rm(part, { force: true });
    throw new ModelUnavailableError(
      `The model downloaded from ${s.url} has sha256 ${actual}, but ${names.sha256} is ${sha256}; it was deleted. Check ${names.url} and ${names.sha256}.\n${format.pointers}`,
    );
  }
  await rename(part, file);
  await writeFile(`${file}.sha256`, `${actual}\n`);
  const pin = sha256 ? 'checksum verified' : `not pinned: confirm it and set ${names.sha256}=${actual}`;
  out.write(`Saved ${file} (sha256 ${actual}; ${pin})\n`);
}

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** fetch hides the useful part (ECONNREFUSED, ENOTFOUND...) in `cause`. */
function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? describe(err);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
