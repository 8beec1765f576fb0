/**
 * Checks every backend the configuration names: Riva (health, models, voices, a round trip) and
 * an OpenAI-compatible LLM such as NIM (readiness, models, a one-token completion). `deep` adds
 * the round trip and the completion (`voice-gateway doctor`); without it the checks are cheap
 * enough to run at every start, as warnings.
 */
import type { Config } from '../config/schema.js';
import { fail, ok, skip, type BackendCheck } from './backend-check.js';
import { chosenLlm } from './create-llm.js';
import { checkReady, fetchFailure, listModels, oneTokenCompletion, type LlmEndpoint } from './llm/openai-compatible-checks.js';
import { checkRiva } from './riva/checks.js';
import { checkMcpServers } from './tools/mcp-checks.js';

export type { BackendCheck } from './backend-check.js';

export async function checkBackends(config: Config, deep: boolean): Promise<BackendCheck[]> {
  const local = (kind: string, name: string) => skip(kind, 'backend', `${name} runs in this process: nothing to reach`);
  const rows: BackendCheck[] = [];
  if (config.ASR_PROVIDER === 'riva' || config.TTS_PROVIDER === 'riva') rows.push(...(await checkRiva(config, deep)));
  if (config.ASR_PROVIDER !== 'riva') rows.push(local('asr', config.ASR_PROVIDER));
  if (config.TTS_PROVIDER !== 'riva') rows.push(local('tts', config.TTS_PROVIDER));
  const llm = chosenLlm(config);
  if (llm === 'openai' && config.LLM_BASE_URL) {
    rows.push(...(await checkLlm({ baseUrl: config.LLM_BASE_URL, apiKey: config.LLM_API_KEY || undefined, model: config.LLM_MODEL, timeoutMs: config.LLM_REQUEST_TIMEOUT_MS }, deep)));
  } else if (llm === 'openai') {
    rows.push(fail('llm', 'settings', 'LLM_PROVIDER=openai without LLM_BASE_URL', 'set LLM_BASE_URL, e.g. http://nim-llm:8000/v1'));
  } else {
    rows.push(local('llm', llm));
  }
  rows.push(...(await checkMcpServers(config.MCP_SERVERS, process.env, config.MCP_CONNECT_TIMEOUT_MS)));
  return rows;
}

async function checkLlm(endpoint: LlmEndpoint, deep: boolean): Promise<BackendCheck[]> {
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
