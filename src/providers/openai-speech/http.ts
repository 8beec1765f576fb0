/**
 * What the OpenAI-compatible speech providers (asr/openai.ts, tts/openai.ts) share: URLs, the
 * key, failures as ProviderErrors that say what to change, which failures are worth sending the
 * request again, and reading a body within a byte bound.
 */
import { fetchFailure } from '../llm/openai-compatible-checks.js';
import { ProviderError, type ProviderKind } from '../types.js';

export type SpeechKind = Extract<ProviderKind, 'asr' | 'tts'>;

/** `http://host/v1` + `/audio/speech`. */
export function endpoint(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}

export function authorization(apiKey: string | undefined): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

/**
 * A ProviderError that also says whether sending the same request again at once is worth it
 * (`resend`: the connection failed or dropped, a 502/503/504), which is narrower than the
 * contract's `retryable` (later, unchanged: a 500 or a timeout may pass too).
 */
export class SpeechHttpError extends ProviderError {
  constructor(
    kind: SpeechKind,
    message: string,
    readonly resend: boolean,
    options: { retryable?: boolean; retryAfterS?: number } = {},
  ) {
    super(kind, message, { retryable: resend || options.retryable, retryAfterS: options.retryAfterS });
  }
}

/** The settings a failure's fix names, per kind. */
const SETTING = { asr: 'ASR', tts: 'TTS' } as const;

/** A non-2xx answer, with the server's own words and the fix. */
export async function httpFailure(kind: SpeechKind, url: string, response: Response, model: string): Promise<SpeechHttpError> {
  const body = (await response.text().catch(() => '')).slice(0, 300);
  const what = `${kind === 'asr' ? 'transcription' : 'speech'} server at ${url} answered HTTP ${response.status}`;
  const detail = body ? `: ${body}` : '';
  const prefix = SETTING[kind];
  const status = response.status;
  if (status === 429 || status >= 500) {
    const retryAfterS = Number(response.headers.get('retry-after')) || undefined;
    const why = status === 429 ? ' (rate limited)' : ' (server error)';
    return new SpeechHttpError(kind, `${what}${why}${detail}`, status === 502 || status === 503 || status === 504, { retryable: true, retryAfterS });
  }
  const hints: Record<number, string> = {
    400: `; check ${prefix}_MODEL${kind === 'tts' ? ', TTS_VOICE' : ''} and that the server takes ${kind === 'asr' ? 'WAV uploads' : 'response_format pcm'}`,
    401: `; check ${prefix}_API_KEY`,
    403: `; check ${prefix}_API_KEY and its permissions`,
    404: `; the model "${model}" (${prefix}_MODEL) may not be installed, or ${prefix}_BASE_URL may be wrong (it ends in /v1)`,
    422: `; the server refused the request's fields: check ${prefix}_MODEL${kind === 'tts' ? ' and TTS_VOICE' : ''}`,
  };
  return new SpeechHttpError(kind, `${what}${hints[status] ?? ''}${detail}`, false);
}

/** fetch itself failed: nothing listens, the connection dropped, or our own timer ran out. */
export function fetchError(kind: SpeechKind, url: string, error: unknown, timedOutMs?: number): SpeechHttpError {
  const prefix = SETTING[kind];
  if (timedOutMs !== undefined) {
    return new SpeechHttpError(kind, `${kind === 'asr' ? 'transcription' : 'speech'} server at ${url} did not answer within ${timedOutMs} ms (${prefix}_TIMEOUT_MS); it may be overloaded or still loading its model`, false, { retryable: true });
  }
  const cause = fetchFailure(error);
  return new SpeechHttpError(kind, `could not reach the ${kind === 'asr' ? 'transcription' : 'speech'} server at ${url} (${cause}): check ${prefix}_BASE_URL and that the server is running`, true);
}

/** The body as text, failing past `maxBytes` (a server must not fill our memory). */
export async function readText(kind: SpeechKind, url: string, response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const parts: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel();
      throw new SpeechHttpError(kind, `the server at ${url} sent more than ${maxBytes} bytes (SPEECH_MAX_MESSAGE_BYTES)`, false);
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The next read of `reader`, or a ProviderError when nothing comes within `limitMs`. */
export async function readWithin<T>(reader: ReadableStreamDefaultReader<T>, limitMs: number, stalled: () => Error): Promise<Awaited<ReturnType<ReadableStreamDefaultReader<T>["read"]>>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(stalled()), limitMs);
  });
  try {
    return await Promise.race([reader.read(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
