/** The gateway's MCP servers from its settings: connected and listed at start, their states logged as they change. */
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import { McpToolBackend } from './mcp.js';

/** Connects MCP_SERVERS (none: undefined). A server that is down is logged and retried later. */
export async function startMcpBackend(config: Config, env: Record<string, string | undefined>, log: Pick<Logger, 'info' | 'warn'>): Promise<McpToolBackend | undefined> {
  if (config.MCP_SERVERS.length === 0) return undefined;
  const backend = new McpToolBackend({
    servers: config.MCP_SERVERS,
    env,
    connectTimeoutMs: config.MCP_CONNECT_TIMEOUT_MS,
    refreshIntervalMs: config.MCP_REFRESH_INTERVAL_MS,
    onStatus: (status) => {
      const fields = { mcpServer: status.server, url: status.url, tools: status.tools, skipped: status.skipped };
      if (status.state === 'ready') log.info(fields, 'MCP server tools listed');
      else log.warn({ ...fields, error: status.error }, 'MCP server is down: its tools are not offered until it answers again');
    },
  });
  await backend.start();
  return backend;
}
