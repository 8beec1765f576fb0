/**
 * Checks of an OpenAI-compatible server (NIM above all): is it ready (NIM's GET /v1/health/ready),
 * does it serve the model (GET /v1/models), does a one-token completion work. Used at start (as
 * warnings) and by `voice-gateway doctor`.
 */
import type { Config } from '../../config/schema.js';
import { fail, ok, skip, type BackendCheck } from '../checks/check-result.js';
import { OpenAiCompatibleChatModel } from './openai-compatible.js';

export interface LlmEndpoint {
  /** e.g. http://nim:8000/v1 */
  baseUrl: string;
  apiKey?: string;
  model: string;
  timeoutMs: number;
}

export type Readiness = { state: 'ready' } | { state: 'not_ready'; status: number; detail: string } | { state: 'absent' };

function url(endpoint: LlmEndpoint, path: string): string {
  return `${endpoint.baseUrl.replace(/\/+$/, '')}${path}`;
}

async function get(endpoint: LlmEndpoint, path: string): Promise<Response> {
  return fetch(url(endpoint, path), {
    headers: endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {},
    signal: AbortSignal.timeout(endpoint.timeoutMs),
  });
}

/** NIM's readiness; servers without the route (vLLM, Ollama, OpenAI) are `absent`. Throws when unreachable. */
export async function checkReady(endpoint: LlmEndpoint): Promise<Readiness> {
  const response = await get(endpoint, '/health/ready');
  const body = (await response.text()).slice(0, 200);
  if (response.ok) return { state: 'ready' };
  if (response.status === 404 || response.status === 405) return { state: 'absent' };
  return { state: 'not_ready', status: response.status, detail: body };
}

/** The model ids of GET /v1/models. Throws when unreachable or refused. */
export async function listModels(endpoint: LlmEndpoint): Promise<string[]> {
  const response = await get(endpoint, '/models');
  if (!response.ok) throw new Error(`GET ${url(endpoint, '/models')} answered HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
  const body = (await response.json()) as { data?: Array<{ id?: unknown }> };
  return (body.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
}

/** A one-token completion through the gateway's own provider: what a turn does, smallest. */
export async function oneTokenCompletion(endpoint: LlmEndpoint): Promise<{ text: string; ms: number }> {
  const model = new OpenAiCompatibleChatModel({
    baseUrl: endpoint.baseUrl,
    apiKey: endpoint.apiKey,
    model: endpoint.model,
    temperature: 0,
    maxTokens: 1,
    requestTimeoutMs: endpoint.timeoutMs,
    streamIdleTimeoutMs: endpoint.timeoutMs,
  });
  const started = performance.now();
  const signal = AbortSignal.timeout(endpoint.timeoutMs * 2);
  let text = '';
  for await (const piece of model.stream([{ role: 'user', content: 'Say OK.' }], {}, signal)) if (piece.type === 'text') text += piece.text;
  // The provider ends quietly on abort: here that means the answer took too long.
  if (signal.aborted) throw new Error(`no complete answer within ${endpoint.timeoutMs * 2} ms`);
  return { text, ms: Math.round(performance.now() - started) };
}

/** fetch hides the reason (ECONNREFUSED, ENOTFOUND, a timeout) in `cause`. */
export function fetchFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time';
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** The checks of `LLM_PROVIDER=openai` (its row in ../registry.ts). */
export async function checkOpenAiCompatible(config: Config, deep: boolean): Promise<BackendCheck[]> {
  if (!config.LLM_BASE_URL) return [fail('llm', 'settings', 'LLM_PROVIDER=openai without LLM_BASE_URL', 'set LLM_BASE_URL, e.g. http://nim-llm:8000/v1')];
  const endpoint: LlmEndpoint = { baseUrl: config.LLM_BASE_URL, apiKey: config.LLM_API_KEY || undefined, model: config.LLM_MODEL, timeoutMs: config.LLM_REQUEST_TIMEOUT_MS };
  const rows: BackendCheck[] = [];
  try {
    const readiness = await checkReady(endpoint);
    if (readiness.state === 'ready') rows.push(ok('llm', 'readiness', `${endpoint.baseUrl}/health/ready: ready`));
    else if (readiness.state === 'absent') rows.push(skip('llm', 'readiness', `${endpoint.baseUrl} has no /health/ready (not a NIM; vLLM has /health)`));
    else rows.push(fail('llm', 'readiness', `${endpoint.baseUrl}/health/ready answered HTTP ${readiness.status}: ${readiness.detail}`, 'NIM is still loading its model (a first start can take 30 minutes): wait, or see its log'));
  } catch (error) {
    rows.push(fail('llm', 'readiness', `cannot reach ${endpoint.baseUrl} (${fetchFailure(error)})`, 'check LLM_BASE_URL and that the server is running'));
    rows.push(skip('llm', 'models', 'not checked: the server is not reachable'));
    if (deep) rows.push(skip('llm', 'one-token completion', 'not tried: the server is not reachable'));
    return rows;
  }
  try {
    const models = await listModels(endpoint);
    if (models.includes(endpoint.model)) rows.push(ok('llm', 'models', `LLM_MODEL=${endpoint.model} is served`));
    else rows.push(fail('llm', 'models', `LLM_MODEL=${endpoint.model} is not served; served: ${models.join(', ') || 'none'}`, 'set LLM_MODEL to a served model'));
  } catch (error) {
    const refused = /HTTP 40[13]/.test(String(error));
    rows.push(fail('llm', 'models', error instanceof Error ? error.message : String(error), refused ? 'check LLM_API_KEY' : 'check LLM_BASE_URL: it should end in /v1'));
  }
  if (deep) {
    try {
      const { text, ms } = await oneTokenCompletion(endpoint);
      rows.push(ok('llm', 'one-token completion', `"${text}" in ${ms} ms`));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      rows.push(fail('llm', 'one-token completion', message, /429|rate limited/.test(message) ? 'the server is rate limiting: wait, or use a NIM of your own' : 'see the server log'));
    }
  }
  return rows;
}
