/**
 * The HTTP port: plain routes (health, metrics, the web client) and WebSocket upgrades. Each
 * feature registers its own route; this file only dispatches.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
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
  /** https when the port serves TLS (and its WebSockets are wss). */
  readonly scheme: 'http' | 'https';
  /**
   * Serves another certificate and key to new connections (a renewed certificate); open ones
   * keep theirs. Only with TLS.
   */
  setTls(tls: { cert: Buffer; key: Buffer }): void;
  close(): Promise<void>;
}

export function emptyRoutes(): HttpRoutes {
  const routes = new Map<string, RouteHandler>();
  const ok: RouteHandler = (_request, response) => void response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  routes.set('/healthz', ok);
  routes.set('/readyz', ok);
  return { routes, upgrades: new Map() };
}

/** `tls`: a PEM certificate and key to serve HTTPS and WSS with the same routes; without it plain HTTP. */
export async function startHttpServer(host: string, port: number, { routes, upgrades }: HttpRoutes, tls?: { cert: Buffer; key: Buffer }): Promise<HttpServer> {
  const listener: RequestListener = (request, response) => {
    const handler = routes.get(pathOf(request));
    // A 404 names no route: what this port serves is documented, not told to whoever probes it.
    if (!handler) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    Promise.resolve(handler(request, response)).catch(() => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('internal error\n');
    });
  };
  const secure = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, listener) : null;
  const server: Server = secure ?? createServer(listener);
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const handler = upgrades.get(pathOf(request));
    if (handler) return handler(request, socket, head);
    socket.end('HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: 10\r\nconnection: close\r\n\r\nnot found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    scheme: secure ? 'https' : 'http',
    setTls(next) {
      if (!secure) throw new Error('this HTTP port was started without TLS: restart it with TLS_CERT_FILE and TLS_KEY_FILE');
      secure.setSecureContext({ cert: next.cert, key: next.key });
    },
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
