/**
 * Fuzzing the HTTP port's routes with fast-check, against a real gateway process: raw requests
 * over TCP with random methods, paths, headers (WebSocket upgrades valid and not, origins,
 * credentials, lengths that lie, values near the header limit) and bodies. Every request must get
 * a status line; no upgrade, refused or accepted, may leave a session behind once its socket is
 * gone; the process must live, with no internal error, and give its memory back (support/fuzz.ts).
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { fuzzBudget, fuzzFor, startFuzzTarget, within, type FuzzTarget } from '../support/fuzz.js';

let target: FuzzTarget;
before(async () => {
  target = await startFuzzTarget({ ALLOWED_ORIGINS: 'https://app.example.com' });
});
after(() => target.stop());

const CASE_WAIT_MS = 30_000;
const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/);
/** A header value: what a client could put on the wire (no CR or LF), sometimes near the limit. */
const headerValue = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[\x20-\x7e]{0,60}$/) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 20_000 }).map((n) => 'v'.repeat(n)) },
);
const path = fc.oneof(
  fc.constantFrom('/', '/healthz', '/readyz', '/metrics', '/v1/voice', '/v1/realtime', '/v1/realtime?model=x', '/v1/realtime?intent=transcription', '/index.html', '/app.js', '/../../etc/passwd', '/%00', '//', '*'),
  fc.webPath(),
  fc.string({ unit: 'grapheme', maxLength: 60 }).map((t) => `/${[...Buffer.from(t, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')}`),
  fc.integer({ min: 1000, max: 20_000 }).map((n) => `/${'p'.repeat(n)}`),
);
const upgradeHeaders = fc.record(
  {
    Upgrade: fc.constantFrom('websocket', 'WebSocket', 'h2c', ''),
    Connection: fc.constantFrom('Upgrade', 'upgrade, keep-alive', 'close'),
    'Sec-WebSocket-Key': fc.oneof(fc.constant('dGhlIHNhbXBsZSBub25jZQ=='), fc.base64String({ maxLength: 30 }), headerValue),
    'Sec-WebSocket-Version': fc.oneof(fc.constantFrom('13', '8', '99', ''), headerValue),
    'Sec-WebSocket-Protocol': fc.oneof(fc.constantFrom('voice.v1', 'realtime', 'voice.v1, voice-gateway-key.x', 'openai-insecure-api-key.k, realtime'), headerValue),
    'Sec-WebSocket-Extensions': fc.oneof(fc.constant('permessage-deflate'), headerValue),
    Origin: fc.oneof(fc.constantFrom('https://app.example.com', 'https://evil.example', 'null'), headerValue),
    Authorization: fc.oneof(fc.constant('Bearer key'), headerValue),
    'OpenAI-Beta': fc.constantFrom('realtime=v1', 'x'),
  },
  { requiredKeys: [] },
);
const otherHeaders = fc.dictionary(token, headerValue, { maxKeys: 6 });
const anyRequest: fc.Arbitrary<RawRequest> = fc.record({
  method: fc.oneof(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'), token),
  path,
  headers: fc.tuple(upgradeHeaders, otherHeaders).map(([upgrade, other]) => ({ ...other, ...upgrade })),
  contentLength: fc.option(fc.oneof(fc.nat({ max: 100 }), fc.constant(-1), fc.constant(1e12)), { nil: undefined }),
  body: fc.uint8Array({ maxLength: 200 }),
});
/** A valid WebSocket upgrade to a session endpoint with a few of its headers changed: admission, origin and handshake paths. */
const nearlyValidUpgrade: fc.Arbitrary<RawRequest> = fc
  .record({
    path: fc.constantFrom('/v1/voice', '/v1/realtime', '/v1/realtime?model=fuzz', '/v1/realtime?intent=transcription'),
    changed: fc.record({ Origin: upgradeHeaders.map((h) => h.Origin), 'Sec-WebSocket-Key': upgradeHeaders.map((h) => h['Sec-WebSocket-Key']), 'Sec-WebSocket-Version': fc.constantFrom('13', '8', '12'), 'Sec-WebSocket-Protocol': upgradeHeaders.map((h) => h['Sec-WebSocket-Protocol']) }, { requiredKeys: [] }),
    body: fc.uint8Array({ maxLength: 40 }),
  })
  .map(({ path, changed, body }) => ({
    method: 'GET',
    path,
    headers: Object.fromEntries(
      Object.entries({ Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13', ...changed }).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ),
    contentLength: undefined,
    body,
  }));
const request = fc.oneof(anyRequest, nearlyValidUpgrade);

type RawRequest = { method: string; path: string; headers: Record<string, string>; contentLength: number | undefined; body: Uint8Array };

/** Node's HTTP server reads at most this much of a request's head (--max-http-header-size). */
const MAX_HEAD_BYTES = 16 * 1024;

/**
 * Sends one raw request and resolves with the status line the server answered. A head past
 * MAX_HEAD_BYTES is answered 431 and the connection closed at once, before the client has sent
 * the rest: TCP may then reset it and lose the answer, so for such a request a reset counts as
 * the answer ('reset').
 */
function send(r: RawRequest): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(target.gateway.httpPort, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      const line = /^HTTP\/1\.1 \d{3}[^\r\n]*\r\n/.exec(answer);
      if (line) {
        socket.destroy(); // a 101 leaves a session behind this socket: it must go when the socket does
        resolve(line[0].trim());
      }
    });
    socket.on('error', () => undefined);
    const lines = [`${r.method} ${r.path} HTTP/1.1`, `Host: 127.0.0.1:${target.gateway.httpPort}`];
    for (const [name, value] of Object.entries(r.headers)) if (name.toLowerCase() !== 'host' && name.toLowerCase() !== 'content-length' && name.toLowerCase() !== 'transfer-encoding') lines.push(`${name}: ${value}`);
    if (r.contentLength !== undefined) lines.push(`Content-Length: ${r.contentLength}`);
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    socket.on('close', () => {
      if (head.length > MAX_HEAD_BYTES) resolve('reset');
      else reject(new Error(`the connection closed without a status line; got ${JSON.stringify(answer.slice(0, 200))}`));
    });
    socket.write(Buffer.concat([head, Buffer.from(r.body)]));
  });
}

void describe('fuzzing the HTTP routes', { timeout: fuzzBudget().timeLimitMs + 600_000 }, () => {
  void it('every request gets a status line; no upgrade leaves a session behind; the process lives', async (t) => {
    await send({ method: 'GET', path: '/healthz', headers: {}, contentLength: undefined, body: new Uint8Array() }); // warm-up
    await target.markBaseline();
    const statuses = new Map<string, number>();
    const run = await fuzzFor(request, async (r) => {
      const line = await within(send(r), CASE_WAIT_MS, 'no answer to an HTTP request');
      const status = line === 'reset' ? 'reset (head too large)' : line.split(' ')[1]!;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      assert.match(line, /^(HTTP\/1\.1 [1-5]\d\d|reset$)/);
    });
    t.diagnostic(`statuses: ${[...statuses].sort().map(([s, n]) => `${s} x${n}`).join(', ')}`);
    t.diagnostic(await target.checkAfterRun('HTTP routes', run));
  });
});
