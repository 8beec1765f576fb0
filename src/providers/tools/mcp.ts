/**
 * Server tools from MCP servers (MCP_SERVERS), over Streamable HTTP with the official SDK.
 *
 * - At start every server is connected and its tools listed (`tools/list`, all pages); the list
 *   is refreshed when the server says it changed (`notifications/tools/list_changed`) and every
 *   MCP_REFRESH_INTERVAL_MS, which also reconnects a server that was down.
 * - Only tools on the server's allow-list are offered, with names the LLM servers accept; a name
 *   two servers share goes to the first server listed (the other is reported, never silently
 *   shadowed).
 * - A call passes the caller's AbortSignal to the SDK, which sends `notifications/cancelled` to
 *   the server when it aborts (barge-in, timeout). A failed call is a result the model is told
 *   (`isError`: outcome error; a server down, a broken connection or a protocol error: outcome
 *   unavailable), never an exception; a server found down is reconnected on its next use.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { resolveHeaders, type McpServerConfig } from '../../config/mcp-servers.js';
import { TOOL_NAME, type ServerTool, type ToolBackend, type ToolCallResult } from '../types.js';
import { resultText } from './mcp-content.js';

export interface McpBackendOptions {
  servers: readonly McpServerConfig[];
  /** Where `${NAME}` in header values comes from. */
  env: Record<string, string | undefined>;
  /** Longest wait (ms) to connect and initialize, and for one `tools/list` page. */
  connectTimeoutMs: number;
  /** How often (ms) the tool lists are refreshed and servers that were down tried again (0: never). */
  refreshIntervalMs: number;
  /** A server's state changed (for logs). */
  onStatus?: (status: McpServerStatus) => void;
}

/** What one server offers, and why a tool it lists is not offered. */
export interface McpServerStatus {
  server: string;
  url: string;
  state: 'ready' | 'down';
  /** Tools offered to the model. */
  tools: string[];
  /** Tools the server lists that are not offered, with the reason. */
  skipped: Array<{ tool: string; reason: string }>;
  error?: string;
}

const CLIENT_INFO = { name: 'voice-gateway', version: '0.1.0' };
/** McpError codes the SDK makes itself (no answer came), unlike errors the server answered with. */
const LOCAL_ERRORS = new Set<number>([ErrorCode.ConnectionClosed, ErrorCode.RequestTimeout]);
/** tools/list pages read at most (a server that pages forever is cut off). */
const MAX_LIST_PAGES = 20;

class McpConnection {
  private client: Client | null = null;
  private opening: Promise<void> | null = null;
  /** Aborted when the connection is found lost, so calls waiting on it end at once. */
  private readonly inflight = new Set<AbortController>();
  private checking = false;
  listed: Array<Omit<ServerTool, 'server'>> = [];
  status: McpServerStatus;

  constructor(
    readonly config: McpServerConfig,
    private readonly headers: Record<string, string>,
    private readonly options: McpBackendOptions,
    private readonly changed: () => void,
  ) {
    this.status = { server: config.name, url: config.url, state: 'down', tools: [], skipped: [], error: 'not connected yet' };
  }

  get ready(): boolean {
    return this.status.state === 'ready';
  }

  /** Connects (or reconnects) and lists the tools; never throws (the status says what failed). */
  open(): Promise<void> {
    this.opening ??= this.openOnce().finally(() => (this.opening = null));
    return this.opening;
  }

  private async openOnce(): Promise<void> {
    await this.dropClient();
    const client = new Client(CLIENT_INFO, {
      capabilities: {},
      listChanged: { tools: { autoRefresh: false, onChanged: () => this.background(this.refresh()) } },
    });
    // A response stream that broke may be resumed by the SDK, or the server may be gone (then the
    // SDK would leave calls waiting for their timeout): a ping tells which.
    client.onerror = () => this.background(this.checkAlive(client));
    try {
      const transport = new StreamableHTTPClientTransport(new URL(this.config.url), { requestInit: { headers: this.headers } });
      await client.connect(transport, { timeout: this.options.connectTimeoutMs });
      this.client = client;
      await this.list(client);
    } catch (error) {
      await client.close().catch(() => undefined);
      if (this.client === client) this.client = null;
      this.setDown(error);
    }
  }

  /** Lists the tools again; a server that does not answer is marked down. */
  async refresh(): Promise<void> {
    const client = this.client;
    if (!client) return this.open();
    try {
      await this.list(client);
    } catch (error) {
      this.setDown(error);
    }
  }

  private async list(client: Client): Promise<void> {
    const listed: McpConnection['listed'] = [];
    const skipped: McpServerStatus['skipped'] = [];
    const allowAll = this.config.allow.includes('*');
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const result = await client.listTools(cursor ? { cursor } : {}, { timeout: this.options.connectTimeoutMs });
      for (const tool of result.tools) {
        if (!allowAll && !this.config.allow.includes(tool.name)) skipped.push({ tool: tool.name, reason: 'not in the allow-list' });
        else if (!TOOL_NAME.test(tool.name)) skipped.push({ tool: tool.name, reason: 'the name has characters LLM servers refuse (use letters, digits, _ or -, at most 64)' });
        else listed.push({ name: tool.name, description: tool.description ?? tool.title ?? '', parameters: tool.inputSchema, timeoutMs: this.config.toolTimeoutsMs[tool.name] ?? this.config.timeoutMs });
      }
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    for (const name of this.config.allow) {
      if (name !== '*' && !listed.some((t) => t.name === name) && !skipped.some((s) => s.tool === name)) skipped.push({ tool: name, reason: 'allowed but the server does not list it' });
    }
    this.listed = listed;
    this.status = { server: this.config.name, url: this.config.url, state: 'ready', tools: listed.map((t) => t.name), skipped };
    this.changed();
  }

  async call(name: string, args: Record<string, unknown>, signal: AbortSignal, timeoutMs: number): Promise<ToolCallResult> {
    if (!this.ready) await this.open();
    const client = this.client;
    signal.throwIfAborted();
    if (!client || !this.ready) return { outcome: 'unavailable', output: `the tool server "${this.config.name}" is not reachable (${this.status.error ?? 'down'}); the tool did not run` };
    const lost = new AbortController();
    this.inflight.add(lost);
    try {
      // Our signal decides (timeout, barge-in); the SDK's own timeout is only a backstop.
      const result = await client.callTool({ name, arguments: args }, undefined, { signal: AbortSignal.any([signal, lost.signal]), timeout: timeoutMs + 1000 });
      const text = resultText(result);
      return result.isError ? { outcome: 'error', output: text || 'the tool reported an error without a message' } : { outcome: 'ok', output: text };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (lost.signal.aborted) return { outcome: 'unavailable', output: `the tool server "${this.config.name}" went away during the call (${describe(lost.signal.reason)}); the tool may or may not have run` };
      if (error instanceof McpError && !LOCAL_ERRORS.has(error.code)) {
        // The server answered with a JSON-RPC error (unknown tool, invalid parameters): it is up.
        return { outcome: 'error', output: `the tool server "${this.config.name}" refused the call: ${error.message}` };
      }
      this.setDown(error);
      return { outcome: 'unavailable', output: `the tool server "${this.config.name}" failed during the call (${describe(error)}); the tool may or may not have run` };
    } finally {
      this.inflight.delete(lost);
    }
  }

  /** Work nobody awaits (a refresh, a liveness check): if it fails after all, the server counts as down. */
  background(work: Promise<void>): void {
    work.catch((error: unknown) => this.setDown(error));
  }

  /** After a transport error: a server that does not answer a ping is down, and its calls end now. */
  private async checkAlive(client: Client): Promise<void> {
    if (this.checking || this.client !== client) return;
    this.checking = true;
    try {
      await client.ping({ timeout: this.options.connectTimeoutMs });
    } catch (error) {
      if (this.client !== client) return;
      for (const lost of this.inflight) lost.abort(new Error(`no answer to a ping after a transport error: ${describe(error)}`));
      this.setDown(error);
    } finally {
      this.checking = false;
    }
  }

  private setDown(error: unknown): void {
    const was = this.status.state;
    this.status = { ...this.status, state: 'down', error: describe(error) };
    const client = this.client;
    this.client = null;
    client?.close().catch(() => undefined); // closing a connection that is already gone
    if (was !== 'down' || this.listed.length > 0) {
      this.listed = [];
      this.changed();
    }
  }

  private async dropClient(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.close().catch(() => undefined);
  }

  close(): Promise<void> {
    return this.dropClient();
  }
}

export class McpToolBackend implements ToolBackend {
  private readonly connections: McpConnection[];
  private offered: ServerTool[] = [];
  private timer: NodeJS.Timeout | undefined;

  /** Throws when a header names an environment variable that is not set. */
  constructor(private readonly options: McpBackendOptions) {
    this.connections = options.servers.map((server) => new McpConnection(server, resolveHeaders(server, options.env), options, () => this.onChanged(server.name)));
  }

  /** Connects every server and lists its tools; servers that are down are tried again later. */
  async start(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.open()));
    if (this.options.refreshIntervalMs > 0) {
      this.timer = setInterval(() => this.connections.forEach((c) => c.background(c.refresh())), this.options.refreshIntervalMs);
      this.timer.unref();
    }
  }

  /** Lists every server's tools again (reconnecting those that are down). */
  async refresh(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.refresh()));
  }

  tools(): readonly ServerTool[] {
    return this.offered;
  }

  statuses(): McpServerStatus[] {
    return this.connections.map((c) => c.status);
  }

  async call(tool: ServerTool, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolCallResult> {
    const connection = this.connections.find((c) => c.config.name === tool.server);
    if (!connection) return { outcome: 'unavailable', output: `no tool server is named "${tool.server}"` };
    return connection.call(tool.name, args, signal, tool.timeoutMs ?? 600000);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.connections.map((c) => c.close()));
  }

  /** The offered list again: each name once, the first server listed keeping a shared name. */
  private onChanged(server: string): void {
    const offered: ServerTool[] = [];
    for (const connection of this.connections) {
      for (const tool of connection.listed) {
        const owner = offered.find((t) => t.name === tool.name);
        if (owner) {
          const reason = `the name is taken by server "${owner.server}", listed first in MCP_SERVERS`;
          if (!connection.status.skipped.some((s) => s.tool === tool.name)) connection.status.skipped.push({ tool: tool.name, reason });
          connection.status.tools = connection.status.tools.filter((t) => t !== tool.name);
          continue;
        }
        offered.push({ ...tool, server: connection.config.name });
      }
    }
    this.offered = offered;
    const status = this.connections.find((c) => c.config.name === server)?.status;
    if (status) this.options.onStatus?.(status);
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string } })?.cause?.code;
  const message = error instanceof Error ? error.message : String(error);
  return cause && !message.includes(cause) ? `${message} (${cause})` : message;
}
