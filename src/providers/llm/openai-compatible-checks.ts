/**
 * Checks of an OpenAI-compatible server (NIM above all): is it ready (NIM's GET /v1/health/ready),
 * does it serve the model (GET /v1/models), does a one-token completion work. Used at start (as
 * warnings) and by `voice-gateway doctor`.
 */
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
