/**
 * `MCP_SERVERS`: the MCP servers whose tools the gateway offers its model, as a JSON array:
 *
 *   [{"name": "orders", "url": "http://orders:3001/mcp",
 *     "headers": {"Authorization": "Bearer ${ORDERS_MCP_TOKEN}"},
 *     "allow": ["lookup_order"], "timeoutMs": 8000, "toolTimeoutsMs": {"lookup_order": 15000}}]
 *
 * - `allow` is required: the tool names the model may call (`["*"]`: every tool the server lists).
 *   An MCP server may grow tools its operator never meant a voice agent to use.
 * - Header values take `${NAME}` from the environment at start, so secrets stay in secrets (a
 *   Kubernetes Secret as environment variables) and out of this setting; a missing one stops the
 *   start with its name.
 * - `timeoutMs` replaces TOOL_TIMEOUT_MS for this server's tools, `toolTimeoutsMs` for one tool.
 */
import { z } from 'zod';
import { TOOL_NAME } from '../providers/types.js';

const serverName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'a server name is 1 to 32 lower-case letters, digits, _ or -');
const timeoutMs = z.number().int().min(10).max(600000);

const McpServerSchema = z.strictObject({
  name: serverName,
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string().min(1), z.string()).default({}),
  allow: z.array(z.union([z.literal('*'), z.string().regex(TOOL_NAME, 'a tool name is 1 to 64 letters, digits, _ or -')])).min(1, 'list the tools the model may call, or ["*"] for all'),
  timeoutMs: timeoutMs.optional(),
  toolTimeoutsMs: z.record(z.string(), timeoutMs).default({}),
});

export type McpServerConfig = z.output<typeof McpServerSchema>;

/** The schema of the setting: a JSON array of servers with distinct names (empty: none). */
export const mcpServersSetting = z.string().transform((text, ctx): McpServerConfig[] => {
  if (!text.trim()) return [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not JSON (${error instanceof Error ? error.message : String(error)})` });
    return z.NEVER;
  }
  const parsed = z.array(McpServerSchema).max(32).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    ctx.addIssue({ code: 'custom', message: `${issue.path.join('.') || 'the value'}: ${issue.message}; expected [{"name", "url", "allow": [tool names or "*"], "headers"?, "timeoutMs"?, "toolTimeoutsMs"?}]` });
    return z.NEVER;
  }
  const names = parsed.data.map((s) => s.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) {
    ctx.addIssue({ code: 'custom', message: `two servers are named "${twice}": give each its own name` });
    return z.NEVER;
  }
  return parsed.data;
});

/** `${NAME}` in header values, from `env`; throws naming a variable that is not set. */
export function resolveHeaders(server: McpServerConfig, env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(server.headers).map(([header, value]) => [
      header,
      value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
        const found = env[name];
        if (found === undefined) throw new Error(`MCP server "${server.name}": header ${header} uses \${${name}}, which is not set in the environment`);
        return found;
      }),
    ]),
  );
}
