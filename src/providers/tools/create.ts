/**
 * The gateway's tools from its settings: the MCP servers (connected and listed at start, their
 * states logged as they change) and the per-session tool settings the core takes.
 */
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { ToolsConfig } from '../../core/session-tools.js';
import { DEFAULT_FILLER_PHRASES } from '../../core/tool-filler.js';
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

export function toolsConfig(config: Config, backend: McpToolBackend | undefined): ToolsConfig {
  return {
    ...(backend ? { backend } : {}),
    rounds: {
      maxRounds: config.TOOL_MAX_ROUNDS,
      timeoutMs: config.TOOL_TIMEOUT_MS,
      fillerAfterMs: config.TOOL_FILLER_AFTER_MS,
      argumentRetries: config.TOOL_ARGUMENT_RETRIES,
      resultMaxBytes: config.TOOL_RESULT_MAX_BYTES,
      activityDetail: config.TOOL_ACTIVITY_DETAIL,
    },
    fillerPhrases: { ...DEFAULT_FILLER_PHRASES, ...config.TOOL_FILLER_PHRASES },
    declarationsMaxBytes: config.TOOL_DECLARATIONS_MAX_BYTES,
  };
}
