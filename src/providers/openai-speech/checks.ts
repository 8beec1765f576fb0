/**
 * Checks of an OpenAI-compatible speech server (`voice-gateway doctor`, warnings at start): is it
 * reachable (GET /v1/models), does it serve the model, and for speech: the voice (GET
 * /v1/audio/voices, where the server has it) and the PCM rate (speaches lists each speech model's
 * `sample_rate`; Kokoro-FastAPI and OpenAI send 24 kHz and do not say).
 */
import type { Config } from '../../config/schema.js';
import { fail, ok, skip, warn, type BackendCheck } from '../checks/check-result.js';
import { openAiTtsSettings } from '../create-speech-servers.js';
import { fetchFailure } from '../llm/openai-compatible-checks.js';
import { OpenAiSynthesizer } from '../tts/openai.js';
import { authorization, endpoint, readText, type SpeechKind } from './http.js';

type ModelEntry = { id?: unknown; sample_rate?: unknown };
type Listing = { state: 'listed'; models: ModelEntry[] } | { state: 'unlisted' } | { state: 'down' };

const PREFIX = { asr: 'ASR', tts: 'TTS' } as const;

export async function checkOpenAiAsr(config: Config): Promise<BackendCheck[]> {
  const rows: BackendCheck[] = [];
  await checkServer('asr', config, config.ASR_BASE_URL, config.ASR_API_KEY, config.ASR_MODEL, config.ASR_TIMEOUT_MS, rows);
  return rows;
}

export async function checkOpenAiTts(config: Config): Promise<BackendCheck[]> {
  const rows: BackendCheck[] = [];
  const listing = await checkServer('tts', config, config.TTS_BASE_URL, config.TTS_API_KEY, config.TTS_MODEL, config.TTS_TIMEOUT_MS, rows);
  if (listing.state === 'down') {
    rows.push(skip('openai-tts', 'voice', 'not checked: the server is not reachable'));
    return rows;
  }
  rows.push(await checkVoice(config));
  rows.push(checkRate(config, listing));
  return rows;
}

/** The server row and the model row; what GET /models said, for the checks after. */
async function checkServer(kind: SpeechKind, config: Config, baseUrl: string, apiKey: string, model: string, timeoutMs: number, rows: BackendCheck[]): Promise<Listing> {
  const backend = `openai-${kind}`;
  const p = PREFIX[kind];
  if (!baseUrl || !model) {
    rows.push(fail(backend, 'settings', `${p}_PROVIDER=openai without ${baseUrl ? `${p}_MODEL` : `${p}_BASE_URL`}`, `set ${p}_BASE_URL and ${p}_MODEL (see the README, "Neural speech on one machine")`));
    return { state: 'down' };
  }
  const url = endpoint(baseUrl, '/models');
  let response: Response;
  try {
    response = await fetch(url, { headers: authorization(apiKey || undefined), signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    rows.push(fail(backend, `server (${baseUrl})`, `cannot reach ${baseUrl} (${fetchFailure(error)})`, `check ${p}_BASE_URL and that the server is running`));
    rows.push(skip(backend, 'model', 'not checked: the server is not reachable'));
    return { state: 'down' };
  }
  if (response.status === 401 || response.status === 403) {
    await response.body?.cancel();
    rows.push(fail(backend, `server (${baseUrl})`, `GET ${url} answered HTTP ${response.status}`, `check ${p}_API_KEY`));
    rows.push(skip(backend, 'model', 'not checked: the server refused the key'));
    return { state: 'down' };
  }
  if (!response.ok) {
    await response.body?.cancel();
    rows.push(ok(backend, `server (${baseUrl})`, `reachable; it lists no models (GET /models: HTTP ${response.status})`));
    rows.push(skip(backend, 'model', `the server does not list its models: ${p}_MODEL=${model} is tried by the round trip`));
    return { state: 'unlisted' };
  }
  let models: ModelEntry[];
  try {
    const body = JSON.parse(await readText(kind, url, response, config.SPEECH_MAX_MESSAGE_BYTES)) as { data?: ModelEntry[] };
    models = Array.isArray(body.data) ? body.data : [];
  } catch (error) {
    rows.push(fail(backend, `server (${baseUrl})`, `GET ${url} did not answer a model list: ${error instanceof Error ? error.message : String(error)}`, `check ${p}_BASE_URL: it should end in /v1`));
    return { state: 'down' };
  }
  rows.push(ok(backend, `server (${baseUrl})`, `reachable; ${models.length} model${models.length === 1 ? '' : 's'} listed`));
  const ids = models.map((m) => m.id).filter((id): id is string => typeof id === 'string');
  if (ids.includes(model)) rows.push(ok(backend, 'model', `${p}_MODEL=${model} is served`));
  else {
    rows.push(
      warn(
        backend,
        'model',
        `${p}_MODEL=${model} is not among the listed models: ${ids.join(', ') || 'none'}`,
        `speaches installs a model with: curl -X POST ${endpoint(baseUrl, `/models/${model}`)} ; on other servers set ${p}_MODEL to a listed one (an alias such as whisper-1 or tts-1 may work unlisted: the round trip tells)`,
      ),
    );
  }
  return { state: 'listed', models };
}

async function checkVoice(config: Config): Promise<BackendCheck> {
  const tts = new OpenAiSynthesizer(openAiTtsSettings(config));
  try {
    const voices = await tts.listVoices();
    const names = voices.map((v) => v.name);
    if (!config.TTS_VOICE) {
      return ok('openai-tts', 'voice', `TTS_VOICE is empty: a listed voice for the session's language is used (${names.slice(0, 8).join(', ') || 'none listed: alloy'})`);
    }
    if (names.includes(config.TTS_VOICE)) return ok('openai-tts', 'voice', `TTS_VOICE=${config.TTS_VOICE} is offered`);
    return fail('openai-tts', 'voice', `TTS_VOICE=${config.TTS_VOICE} is not offered; offered: ${names.join(', ') || 'none'}`, 'set TTS_VOICE to an offered voice');
  } catch (error) {
    return warn('openai-tts', 'voice', `the voice list failed: ${error instanceof Error ? error.message : String(error)}`, 'the round trip tries the voice itself');
  }
}

/** speaches lists each speech model's rate; raw PCM at another rate than assumed plays at the wrong pitch. */
function checkRate(config: Config, listing: Listing): BackendCheck {
  const entry = listing.state === 'listed' ? listing.models.find((m) => m.id === config.TTS_MODEL) : undefined;
  const assumed = config.TTS_OPENAI_SAMPLE_RATE;
  if (typeof entry?.sample_rate !== 'number') return skip('openai-tts', 'sample rate', `the server does not say its PCM rate: TTS_OPENAI_SAMPLE_RATE=${assumed} is assumed (OpenAI and Kokoro send 24000)`);
  if (entry.sample_rate === assumed) return ok('openai-tts', 'sample rate', `${config.TTS_MODEL} sends ${assumed} Hz, as TTS_OPENAI_SAMPLE_RATE says`);
  return fail('openai-tts', 'sample rate', `${config.TTS_MODEL} sends ${entry.sample_rate} Hz PCM but TTS_OPENAI_SAMPLE_RATE=${assumed}: replies would play at the wrong speed and pitch`, `set TTS_OPENAI_SAMPLE_RATE=${entry.sample_rate}`);
}
