/**
 * The HTTP port: plain routes (health, metrics, the web client) and WebSocket upgrades. Each
 * feature registers its own route; this file only dispatches.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface HttpRoutes {
  /** Exact paths (without the query string) to handlers of GET and other methods. */
  routes: Map<string, RouteHandler>;
  /** WebSocket paths to upgrade handlers. */
  upgrades: Map<string, UpgradeHandler>;
}

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

export function emptyRoutes(): HttpRoutes {
  const routes = new Map<string, RouteHandler>();
  const ok: RouteHandler = (_request, response) => void response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  routes.set('/healthz', ok);
  routes.set('/readyz', ok);
  return { routes, upgrades: new Map() };
}

export async function startHttpServer(host: string, port: number, { routes, upgrades }: HttpRoutes): Promise<HttpServer> {
  const server: Server = createServer((request, response) => {
    const handler = routes.get(pathOf(request));
    if (!handler) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${[...routes.keys()].join(', ')}\n`);
      return;
    }
    Promise.resolve(handler(request, response)).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const handler = upgrades.get(pathOf(request));
    if (handler) return handler(request, socket, head);
    socket.end(`HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\n\r\nno WebSocket at ${pathOf(request)}: try ${[...upgrades.keys()].join(', ')}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function pathOf(request: IncomingMessage): string {
  return (request.url ?? '/').split('?')[0]!;
}
