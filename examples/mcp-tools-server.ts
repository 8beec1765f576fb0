/**
 * An example MCP server for trying the gateway's server tools: a clock and a small order lookup,
 * over Streamable HTTP, built with the official MCP TypeScript SDK. Start it with one command:
 *
 *   npx tsx examples/mcp-tools-server.ts            # listens on http://127.0.0.1:3001/mcp
 *   npx tsx examples/mcp-tools-server.ts --port 4000 --host 0.0.0.0
 *
 * and point the gateway at it:
 *
 *   MCP_SERVERS='[{"name":"shop","url":"http://127.0.0.1:3001/mcp","allow":["get_time","lookup_order"]}]' npx voice-gateway serve
 *
 * Every MCP session gets its own transport (stateful mode), so a cancelled call
 * (`notifications/cancelled`) reaches the handler that runs it.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

const ORDERS: Record<string, { status: string; item: string; eta: string }> = {
  '1001': { status: 'shipped', item: 'a blue kettle', eta: 'Thursday' },
  '1002': { status: 'being packed', item: 'two coffee mugs', eta: 'next Monday' },
  '1003': { status: 'delivered', item: 'a desk lamp', eta: 'delivered yesterday' },
};

/** The tools, on a fresh MCP server (one per session). */
export function exampleTools(): McpServer {
  const server = new McpServer({ name: 'voice-gateway-example', version: '0.1.0' });
  server.registerTool(
    'get_time',
    {
      description: 'The current local time in an IANA time zone, e.g. Europe/Oslo or America/New_York',
      inputSchema: { time_zone: z.string().describe('IANA time zone name').default('UTC') },
    },
    ({ time_zone }) => {
      try {
        const time = new Intl.DateTimeFormat('en-US', { timeZone: time_zone, hour: 'numeric', minute: '2-digit', weekday: 'long' }).format(new Date());
        return { content: [{ type: 'text', text: `It is ${time} in ${time_zone}.` }] };
      } catch {
        return { isError: true, content: [{ type: 'text', text: `"${time_zone}" is not a time zone I know: use an IANA name like Europe/Oslo` }] };
      }
    },
  );
  server.registerTool(
    'lookup_order',
    {
      description: 'The status of an order by its number (1001, 1002 or 1003 in this example shop)',
      inputSchema: { order_id: z.string().describe('The order number, digits only') },
    },
    ({ order_id }) => {
      const order = ORDERS[order_id.replace(/\D/g, '')];
      if (!order) return { isError: true, content: [{ type: 'text', text: `There is no order ${order_id}.` }] };
      return { content: [{ type: 'text', text: `Order ${order_id}: ${order.item}, ${order.status}, arriving ${order.eta}.` }], structuredContent: { order_id, ...order } };
    },
  );
  return server;
}

/**
 * Serves `makeServer()`'s tools over Streamable HTTP at `/mcp`, one MCP server and transport per
 * session. Returns the HTTP server (listening) and its URL.
 */
export async function serveMcp(
  makeServer: () => McpServer,
  opts: { port?: number; host?: string; onRequest?: (req: IncomingMessage) => void } = {},
): Promise<{ http: Server; url: string }> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const http = createServer((req, res) => void handle(req, res));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    opts.onRequest?.(req);
    if ((req.url ?? '').split('?')[0] !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    const sessionId = req.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (!transport) {
      if (sessionId !== undefined) {
        // An unknown session (this server restarted): the client initializes again.
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
        return;
      }
      const fresh: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, fresh),
      });
      fresh.onclose = () => {
        if (fresh.sessionId) sessions.delete(fresh.sessionId);
      };
      await makeServer().connect(fresh);
      transport = fresh;
    }
    await transport.handleRequest(req, res);
  }

  await new Promise<void>((resolve) => http.listen(opts.port ?? 3001, opts.host ?? '127.0.0.1', resolve));
  const { port, address } = http.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return { http, url: `http://${host}:${port}/mcp` };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '3001' }, host: { type: 'string', default: '127.0.0.1' } } });
  const { url } = await serveMcp(exampleTools, { port: Number(values.port), host: values.host });
  process.stdout.write(`example MCP server (get_time, lookup_order) at ${url}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
