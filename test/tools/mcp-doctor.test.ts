/** `voice-gateway doctor` checks every MCP server with the gateway's own client and lists its tools. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runDoctor } from '../../src/cli/doctor.js';
import { loadConfig } from '../../src/config/load.js';
import type { BackendCheck } from '../../src/providers/checks/run-checks.js';
import { startTestMcpServer, type TestMcpServer } from '../support/mcp-test-server.js';

let mcp: TestMcpServer;
before(async () => {
  mcp = await startTestMcpServer();
});
after(() => mcp.close());

void describe('voice-gateway doctor with MCP_SERVERS', () => {
  void it('a reachable server: its offered tools, the ones not offered and why; a server that is down fails with the fix', async () => {
    const servers = [
      { name: 'shop', url: mcp.url, allow: ['lookup_order', 'get_time', 'missing_tool'] },
      { name: 'gone', url: 'http://127.0.0.1:9/mcp', allow: ['*'] },
    ];
    let json = '';
    const code = await runDoctor(loadConfig({ MCP_SERVERS: JSON.stringify(servers), MCP_CONNECT_TIMEOUT_MS: '2000' }), { json: true, write: (t) => (json += t) });
    const rows = (JSON.parse(json) as { checks: BackendCheck[] }).checks.filter((r) => r.backend.startsWith('mcp:'));
    assert.equal(code, 1);
    assert.deepEqual(
      rows.map((r) => [r.backend, r.check, r.status]),
      [
        ['mcp:shop', 'connect', 'ok'],
        ['mcp:shop', 'tools', 'ok'],
        ['mcp:shop', 'tool missing_tool', 'warn'],
        ['mcp:shop', 'not allowed', 'ok'],
        ['mcp:gone', 'connect', 'fail'],
      ],
    );
    assert.equal(rows[1]!.detail, 'offered: get_time, lookup_order');
    assert.equal(rows[2]!.detail, 'allowed but the server does not list it');
    assert.equal(rows[3]!.detail, 'listed by the server, not offered: hold, find_order, broken');
    assert.match(rows[4]!.fix ?? '', /check the url in MCP_SERVERS/);
    let text = '';
    await runDoctor(loadConfig({ MCP_SERVERS: JSON.stringify(servers.slice(0, 1)) }), { write: (t) => (text += t) });
    assert.match(text, /mcp:shop +tools +ok +offered: get_time, lookup_order/);
  });

  void it('a header naming a variable that is not set is a failed check that names it', async () => {
    let json = '';
    const servers = [{ name: 'shop', url: mcp.url, allow: ['*'], headers: { Authorization: 'Bearer ${NO_SUCH_VAR_FOR_TEST}' } }];
    await runDoctor(loadConfig({ MCP_SERVERS: JSON.stringify(servers) }), { json: true, write: (t) => (json += t) });
    const row = (JSON.parse(json) as { checks: BackendCheck[] }).checks.find((r) => r.backend === 'mcp');
    assert.equal(row?.status, 'fail');
    assert.match(row?.detail ?? '', /NO_SUCH_VAR_FOR_TEST/);
  });
});
