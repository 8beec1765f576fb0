/** The web client as the HTTP port serves it: the built bundle at `/`, and a clear 503 without one. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { emptyRoutes, startHttpServer, type HttpServer } from '../../src/transports/http/server.js';
import { webClientRoutes } from '../../src/transports/http/web-client.js';
import { buildWebClient } from '../../web/build.js';

let dir: string;
let server: HttpServer;
let unbuilt: HttpServer;

async function serve(clientDir: string): Promise<HttpServer> {
  const routes = emptyRoutes();
  for (const [p, handler] of webClientRoutes(clientDir)) routes.routes.set(p, handler);
  return startHttpServer('127.0.0.1', 0, routes);
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'web-client-'));
  await buildWebClient(path.join(dir, 'web'));
  server = await serve(path.join(dir, 'web'));
  unbuilt = await serve(path.join(dir, 'nothing-here'));
});

after(async () => {
  await Promise.all([server.close(), unbuilt.close()]);
  await rm(dir, { recursive: true, force: true });
});

void describe('the web client on the HTTP port', () => {
  void it('/ is the page, with a policy that keeps it to its own origin and the microphone', async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(response.headers.get('permissions-policy'), 'microphone=(self)');
    const html = await response.text();
    assert.match(html, /<script type="module" src="app.js"><\/script>/);
    assert.match(html, /id="talk"/);
  });

  void it('the bundle and both audio worklets are served as JavaScript', async () => {
    for (const file of ['app.js', 'capture-worklet.js', 'playback-worklet.js', 'styles.css']) {
      const response = await fetch(`http://127.0.0.1:${server.port}/${file}`);
      assert.equal(response.status, 200, file);
      assert.match(response.headers.get('content-type') ?? '', file.endsWith('.css') ? /text\/css/ : /text\/javascript/, file);
      assert.ok((await response.text()).length > 100, `${file} has content`);
    }
    const worklet = await (await fetch(`http://127.0.0.1:${server.port}/playback-worklet.js`)).text();
    assert.match(worklet, /registerProcessor\(/);
  });

  void it('nothing outside the bundle can be named', async () => {
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/build.ts', '/src/main.ts']) {
      const response = await fetch(`http://127.0.0.1:${server.port}${p}`);
      assert.equal(response.status, 404, p);
      await response.body?.cancel();
    }
  });

  void it('a gateway whose client was not built says how to build it', async () => {
    const response = await fetch(`http://127.0.0.1:${unbuilt.port}/`);
    assert.equal(response.status, 503);
    assert.match(await response.text(), /run `npm run build`/);
  });
});
