/**
 * Checks every backend the configuration names, each by its row in ../registry.ts: Riva (health,
 * models, voices, a round trip), an OpenAI-compatible LLM such as NIM (readiness, models, a
 * one-token completion), and every MCP server (MCP_SERVERS: connect, list its tools). `deep` adds
 * the round trip and the completion (`voice-gateway doctor`); without it the checks are cheap
 * enough to run at every start, as warnings.
 */
import type { Config } from '../../config/schema.js';
import { chosenVendors, inProcess, vendorRow, type BackendChecker } from '../registry.js';
import type { BackendCheck } from './check-result.js';

export type { BackendCheck } from './check-result.js';

/** The kinds that talk to a backend; the VAD always runs in this process. */
const CHECKED_KINDS = ['asr', 'tts', 'llm'] as const;

export async function checkBackends(config: Config, deep: boolean): Promise<BackendCheck[]> {
  const names = chosenVendors(config);
  const ran = new Set<BackendChecker>();
  const rows: BackendCheck[] = [];
  const checkOf = <K extends (typeof CHECKED_KINDS)[number]>(kind: K) => vendorRow(kind, names[kind]).check;
  for (const kind of CHECKED_KINDS) {
    const check = checkOf(kind);
    if (!check) rows.push(inProcess(kind, names[kind]));
    else if (!ran.has(check)) {
      ran.add(check); // one backend serving two kinds (Riva ASR and TTS) is checked once
      rows.push(...(await check(config, deep)));
    }
  }
  if (config.MCP_SERVERS.length > 0) {
    const { checkMcpServers } = await import('../tools/mcp-checks.js');
    rows.push(...(await checkMcpServers(config.MCP_SERVERS, process.env, config.MCP_CONNECT_TIMEOUT_MS)));
  }
  return rows;
}
