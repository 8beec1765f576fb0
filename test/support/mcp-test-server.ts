/**
 * A real MCP server for tests, built with the official SDK and served over Streamable HTTP on
 * loopback (examples/mcp-tools-server.ts does the serving). Its tools let a test hold a call open,
 * see it cancelled (`notifications/cancelled` aborts the handler's signal), fail it, and change the
 * tool list while clients are connected.
 */
import type { Server } from 'node:http';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { exampleTools, serveMcp } from '../../examples/mcp-tools-server.js';

export interface HeldCall {
  args: Record<string, unknown>;
  /** Answers the call. */
  answer(text: string, isError?: boolean): void;
  /** Settles when the client cancelled the call (notifications/cancelled), with its reason. */
  cancelled: Promise<string>;
}

export interface TestMcpServer {
  url: string;
  /** Calls of `hold`, in arrival order; `nextHeld()` waits for the next one. */
  held: HeldCall[];
  nextHeld(): Promise<HeldCall>;
  /** Every tools/call the server received, by tool name. */
  calls: string[];
  /** Headers of every HTTP request the server received. */
  requestHeaders: Array<Record<string, string | string[] | undefined>>;
  /** Adds a tool to every session and tells the clients their list changed. */
  addTool(name: string, text: string): void;
  close(): Promise<void>;
}

export async function startTestMcpServer(port = 0): Promise<TestMcpServer> {
  const held: HeldCall[] = [];
  const calls: string[] = [];
  const waiters: Array<(call: HeldCall) => void> = [];
  const servers: McpServer[] = [];
  const extra: Array<{ name: string; text: string }> = [];

  const register = (server: McpServer, name: string, text: string) =>
    server.registerTool(name, { description: `Says "${text}"`, inputSchema: {} }, () => {
      calls.push(name);
      return { content: [{ type: 'text', text }] };
    });

  const make = (): McpServer => {
    const server = exampleTools();
    servers.push(server);
    server.registerTool(
      'hold',
      { description: 'Waits until the test answers', inputSchema: { what: z.string() } },
      (args, context) =>
        new Promise((resolve) => {
          calls.push('hold');
          let onCancel: (reason: string) => void = () => undefined;
          const cancelled = new Promise<string>((r) => (onCancel = r));
          context.signal.addEventListener('abort', () => onCancel(String((context.signal.reason as Error | undefined)?.message ?? context.signal.reason)), { once: true });
          const call: HeldCall = {
            args,
            answer: (text, isError = false) => resolve({ content: [{ type: 'text', text }], isError }),
            cancelled,
          };
          held.push(call);
          waiters.splice(0).forEach((wake) => wake(call));
        }),
    );
    server.registerTool('find_order', { description: 'An order by its number (recorded)', inputSchema: { order_id: z.string() } }, ({ order_id }) => {
      calls.push(`find_order:${order_id}`);
      return { content: [{ type: 'text', text: `Order ${order_id} ships Thursday.` }] };
    });
    server.registerTool('broken', { description: 'Always fails', inputSchema: {} }, () => {
      calls.push('broken');
      return { isError: true, content: [{ type: 'text', text: 'the database is on fire' }] };
    });
    for (const tool of extra) register(server, tool.name, tool.text);
    return server;
  };

  const requestHeaders: TestMcpServer['requestHeaders'] = [];
  const { http, url } = await serveMcp(make, { port, onRequest: (req) => requestHeaders.push(req.headers) });
  return {
    url,
    requestHeaders,
    held,
    calls,
    nextHeld: () => new Promise((resolve) => waiters.push(resolve)),
    addTool(name, text) {
      extra.push({ name, text });
      for (const server of servers) {
        register(server, name, text);
        server.sendToolListChanged();
      }
    },
    close: () => closeHttp(http),
  };
}

function closeHttp(http: Server): Promise<void> {
  return new Promise((resolve) => {
    http.close(() => resolve());
    http.closeAllConnections();
  });
}
