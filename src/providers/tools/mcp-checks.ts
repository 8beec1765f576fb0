/**
 * `voice-gateway doctor` for MCP servers: each configured server is connected with the same client
 * the gateway uses, and its tools listed: which are offered to the model, and why any other is
 * not (not allowed, a name LLM servers refuse, allowed but not listed, taken by another server).
 */
import type { McpServerConfig } from '../../config/mcp-servers.js';
import { fail, ok, warn, type BackendCheck } from '../checks/check-result.js';
import { McpToolBackend } from './mcp.js';

export async function checkMcpServers(servers: readonly McpServerConfig[], env: Record<string, string | undefined>, connectTimeoutMs: number): Promise<BackendCheck[]> {
  if (servers.length === 0) return [];
  let backend: McpToolBackend;
  try {
    backend = new McpToolBackend({ servers, env, connectTimeoutMs, refreshIntervalMs: 0 });
  } catch (error) {
    return [fail('mcp', 'settings', error instanceof Error ? error.message : String(error), 'set the variable in the environment, or change the header in MCP_SERVERS')];
  }
  try {
    await backend.start();
    return backend.statuses().flatMap((status): BackendCheck[] => {
      const name = `mcp:${status.server}`;
      if (status.state === 'down') {
        return [fail(name, 'connect', `${status.url}: ${status.error ?? 'no answer'}`, 'check the url in MCP_SERVERS, that the server runs and speaks Streamable HTTP, and its headers (a 401 means a missing or wrong token)')];
      }
      const rows = [ok(name, 'connect', `${status.url}: initialized`)];
      rows.push(status.tools.length > 0 ? ok(name, 'tools', `offered: ${status.tools.join(', ')}`) : warn(name, 'tools', 'no tool is offered to the model', 'list the tools the model may call in "allow" (or ["*"])'));
      const missing = status.skipped.filter((s) => s.reason !== 'not in the allow-list');
      for (const s of missing) rows.push(warn(name, `tool ${s.tool}`, s.reason, 'fix "allow" in MCP_SERVERS, or the tool on the server'));
      const hidden = status.skipped.filter((s) => s.reason === 'not in the allow-list').map((s) => s.tool);
      if (hidden.length > 0) rows.push(ok(name, 'not allowed', `listed by the server, not offered: ${hidden.join(', ')}`));
      return rows;
    });
  } finally {
    await backend.close();
  }
}
