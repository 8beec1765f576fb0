/**
 * Serves the browser client (web/, bundled into dist/web by `npm run build`) at `/` on the HTTP
 * port. The folder's files are listed once at start and read on each request, so a rebuild shows
 * without a restart; nothing outside the folder can be named by a request.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RouteHandler } from './server.js';

/** Where `npm run build` puts the bundle (the same path from src/ under tsx and from dist/). */
export const BUILT_WEB_CLIENT_DIR = fileURLToPath(new URL('../../../dist/web', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
};

/**
 * The page may talk to its own origin only (the WebSocket included: `ws:`/`wss:` are listed since
 * older browsers do not match them with 'self'), and may use the microphone.
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'permissions-policy': 'microphone=(self)',
  'referrer-policy': 'no-referrer',
};

/** Routes for every file of `dir` (and `/` for its index.html); a missing build gets a clear 503. */
export function webClientRoutes(dir: string): Map<string, RouteHandler> {
  const routes = new Map<string, RouteHandler>();
  if (!existsSync(path.join(dir, 'index.html'))) {
    routes.set('/', (_request, response) => {
      response
        .writeHead(503, { 'content-type': 'text/plain; charset=utf-8' })
        .end(`The web client is not built (no index.html in ${dir}): run \`npm run build\`, which bundles web/ into dist/web.\n`);
    });
    return routes;
  }
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (!statSync(file).isFile()) continue;
    const handler = fileHandler(file);
    routes.set(`/${name}`, handler);
    if (name === 'index.html') routes.set('/', handler);
  }
  return routes;
}

function fileHandler(file: string): RouteHandler {
  const contentType = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
  const isPage = contentType.startsWith('text/html');
  return async (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('use GET\n');
      return;
    }
    const body = await readFile(file);
    response.writeHead(200, {
      'content-type': contentType,
      'content-length': body.byteLength,
      // Small files that change with each build: always revalidate, never serve a stale client.
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      ...(isPage ? PAGE_HEADERS : {}),
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
}
