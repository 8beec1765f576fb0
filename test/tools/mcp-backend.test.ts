/**
 * Server tools from real MCP servers on loopback, built with the official SDK and reached with
 * it over Streamable HTTP: discovery with the allow-list, calls and their outcomes, cancellation
 * that reaches the server, a server that is down, one that changes its list, one killed mid-call.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { mcpServersSetting, resolveHeaders, type McpServerConfig } from '../../src/config/mcp-servers.js';
import { McpToolBackend, type McpServerStatus } from '../../src/providers/tools/mcp.js';
import { startTestMcpServer, type TestMcpServer } from '../support/mcp-test-server.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(() => Promise.all(cleanups.map((c) => c())));

async function mcpServer(port = 0): Promise<TestMcpServer> {
  const server = await startTestMcpServer(port);
  cleanups.push(() => server.close());
  return server;
}

function server(name: string, url: string, extra: Partial<McpServerConfig> = {}): McpServerConfig {
  return { name, url, headers: {}, allow: ['*'], toolTimeoutsMs: {}, ...extra };
}

function backend(servers: McpServerConfig[], onStatus?: (s: McpServerStatus) => void, env: Record<string, string> = {}): McpToolBackend {
  const b = new McpToolBackend({ servers, env, connectTimeoutMs: 5000, refreshIntervalMs: 0, onStatus });
  cleanups.push(() => b.close());
  return b;
}

const live = () => new AbortController().signal;

void describe('MCP server tools', () => {
  void it('offers the allowed tools with their schemas and says why others are not offered', async () => {
    const mcp = await mcpServer();
    const b = backend([server('shop', mcp.url, { allow: ['lookup_order', 'hold', 'no_such_tool'], toolTimeoutsMs: { hold: 1234 }, timeoutMs: 999 })]);
    await b.start();
    assert.deepEqual(b.tools().map((t) => [t.name, t.server, t.timeoutMs]), [['lookup_order', 'shop', 999], ['hold', 'shop', 1234]]);
    const lookup = b.tools()[0]!;
    assert.deepEqual((lookup.parameters as { required?: string[] }).required, ['order_id']);
    const [status] = b.statuses();
    assert.equal(status!.state, 'ready');
    assert.deepEqual(status!.skipped.map((s) => [s.tool, s.reason]), [
      ['get_time', 'not in the allow-list'],
      ['find_order', 'not in the allow-list'],
      ['broken', 'not in the allow-list'],
      ['no_such_tool', 'allowed but the server does not list it'],
    ]);
  });

  void it('calls a tool: its text comes back ok; isError comes back as an error the model is told', async () => {
    const mcp = await mcpServer();
    const b = backend([server('shop', mcp.url)]);
    await b.start();
    const tool = (name: string) => b.tools().find((t) => t.name === name)!;
    assert.deepEqual(await b.call(tool('lookup_order'), { order_id: '1001' }, live()), { outcome: 'ok', output: 'Order 1001: a blue kettle, shipped, arriving Thursday.' });
    assert.deepEqual(await b.call(tool('broken'), {}, live()), { outcome: 'error', output: 'the database is on fire' });
  });

  void it('an abort mid-call reaches the server as notifications/cancelled and the call rejects at once', async () => {
    const mcp = await mcpServer();
    const b = backend([server('shop', mcp.url)]);
    await b.start();
    const controller = new AbortController();
    const heldCall = mcp.nextHeld();
    const call = b.call(b.tools().find((t) => t.name === 'hold')!, { what: 'x' }, controller.signal);
    const held = await heldCall;
    assert.deepEqual(held.args, { what: 'x' });
    controller.abort(new Error('barge-in'));
    await assert.rejects(call, /barge-in/);
    assert.match(await held.cancelled, /barge-in/);
  });

  void it('header values take ${NAME} from the environment; a missing one is named', async () => {
    const mcp = await mcpServer();
    const b = backend([server('shop', mcp.url, { headers: { Authorization: 'Bearer ${SHOP_TOKEN}' } })], undefined, { SHOP_TOKEN: 's3cret' });
    await b.start();
    assert.ok(mcp.requestHeaders.length > 0 && mcp.requestHeaders.every((h) => h.authorization === 'Bearer s3cret'));
    assert.throws(() => resolveHeaders(server('shop', mcp.url, { headers: { 'X-Key': '${NOT_SET}' } }), {}), /header X-Key uses \$\{NOT_SET\}, which is not set/);
  });

  void it('a server down at start is reported and its tools are absent; it is found when it comes up', async () => {
    const mcp = await mcpServer();
    const url = mcp.url;
    await mcp.close();
    const b = backend([server('shop', url)]);
    await b.start();
    assert.equal(b.statuses()[0]!.state, 'down');
    assert.match(b.statuses()[0]!.error ?? '', /ECONNREFUSED|fetch failed/);
    assert.deepEqual(b.tools(), []);
    const fake = { name: 'lookup_order', description: '', parameters: {}, server: 'shop' };
    const result = await b.call(fake, { order_id: '1' }, live());
    assert.equal(result.outcome, 'unavailable');
    assert.match(result.output, /the tool server "shop" is not reachable .*; the tool did not run/);
    await mcpServer(Number(new URL(url).port));
    await b.refresh();
    assert.equal(b.statuses()[0]!.state, 'ready');
    assert.ok(b.tools().some((t) => t.name === 'lookup_order'));
  });

  void it('a name two servers list goes to the first; the second says so', async () => {
    const one = await mcpServer();
    const two = await mcpServer();
    const b = backend([server('first', one.url, { allow: ['get_time'] }), server('second', two.url, { allow: ['get_time', 'lookup_order'] })]);
    await b.start();
    assert.deepEqual(b.tools().map((t) => `${t.server}:${t.name}`), ['first:get_time', 'second:lookup_order']);
    assert.deepEqual(
      b.statuses()[1]!.skipped.filter((s) => s.tool === 'get_time'),
      [{ tool: 'get_time', reason: 'the name is taken by server "first", listed first in MCP_SERVERS' }],
    );
  });

  void it('a server that changes its list is listed again (notifications/tools/list_changed)', async () => {
    const mcp = await mcpServer();
    let changed: () => void = () => undefined;
    const relisted = new Promise<void>((resolve) => (changed = resolve));
    const b = backend([server('shop', mcp.url)], (status) => {
      if (status.tools.includes('weather')) changed();
    });
    await b.start();
    assert.ok(!b.tools().some((t) => t.name === 'weather'));
    mcp.addTool('weather', 'sunny');
    await relisted;
    assert.deepEqual(await b.call(b.tools().find((t) => t.name === 'weather')!, {}, live()), { outcome: 'ok', output: 'sunny' });
  });

  void it('a server killed mid-call: the call ends as unavailable without waiting for a timeout, and the server is marked down', async () => {
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/support/mcp-server-main.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => Promise.resolve(child.exitCode === null && child.kill('SIGKILL')));
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const url = String((await lines.next()).value);
    const b = backend([server('shop', url)]);
    await b.start();
    const call = b.call({ ...b.tools().find((t) => t.name === 'hold')!, timeoutMs: 600_000 }, { what: 'x' }, live());
    assert.equal((await lines.next()).value, 'called hold');
    child.kill('SIGKILL');
    await once(child, 'exit');
    const result = await call;
    assert.equal(result.outcome, 'unavailable');
    // Either the SDK's request fails with the connection, or a ping finds the server gone: both say so at once.
    assert.match(result.output, /the tool server "shop" (went away|failed) during the call \(.*\); the tool may or may not have run/);
    assert.equal(b.statuses()[0]!.state, 'down');
  });
});

void describe('MCP_SERVERS', () => {
  const parse = (text: string) => mcpServersSetting.safeParse(text);
  void it('takes a JSON array of servers; empty is none', () => {
    assert.deepEqual(parse('').data, []);
    const ok = parse('[{"name":"shop","url":"http://127.0.0.1:3001/mcp","allow":["*"]}]');
    assert.deepEqual(ok.data, [{ name: 'shop', url: 'http://127.0.0.1:3001/mcp', allow: ['*'], headers: {}, toolTimeoutsMs: {} }]);
  });
  const bad: Array<[string, RegExp]> = [
    ['{not json', /not JSON/],
    ['[{"name":"shop","url":"http://x/mcp"}]', /0\.allow: .*list the tools the model may call, or \["\*"\] for all|0\.allow/],
    ['[{"name":"shop","url":"http://x/mcp","allow":[]}]', /list the tools the model may call/],
    ['[{"name":"Shop!","url":"http://x/mcp","allow":["*"]}]', /0\.name: a server name is/],
    ['[{"name":"s","url":"ftp://x","allow":["*"]}]', /0\.url/],
    ['[{"name":"s","url":"http://x","allow":["a b"]}]', /a tool name is 1 to 64/],
    ['[{"name":"s","url":"http://x","allow":["*"]},{"name":"s","url":"http://y","allow":["*"]}]', /two servers are named "s"/],
    ['[{"name":"s","url":"http://x","allow":["*"],"secret":"x"}]', /secret|Unrecognized/],
  ];
  for (const [text, why] of bad) {
    void it(`refuses ${text.slice(0, 60)}`, () => {
      const result = parse(text);
      assert.equal(result.success, false);
      assert.match(result.error?.issues[0]?.message ?? '', why);
    });
  }
});
